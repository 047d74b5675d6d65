// `xdpturn target check T.json [--object F]`: a new user's first command for a
// description (docs/targets.md). It loads the object through the
// description, so a map, a field or a configuration map that does not fit
// the object is refused here with its reason; then it writes one canary
// binding per path the description claims (a direction, and the families in
// and out), sends that path's frame and says whether the target offloaded it.
// For a path left to user space it tries each field read in the other byte
// order and names those that would make the target take the frame.
#include <boost/program_options.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/cases/fixed_cases.hpp"
#include "harness/check/description_hints.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/compare/differential.hpp"
#include "harness/foreign/target_description.hpp"

namespace po = boost::program_options;

namespace xdpturn::cli {

namespace {

// One path's canary: a fixed case the relay relays on it, the plain one
// ("relayed/basic", "encapsulated/ipv6_basic") where there is one, else
// the first.
struct Canary {
    std::size_t path = 0;
    const FixedCase* fixed = nullptr;
};

std::vector<Canary> canaries(const TargetDescription& target) {
    std::vector<Canary> found;
    std::vector<bool> taken(claimable_paths, false);
    for (bool plain_only : {true, false})
        for (const FixedCase& c : fixed_cases()) {
            if (c.expected.verdict != Verdict::tx ||
                (c.expected.reason != Reason::relayed && c.expected.reason != Reason::encapsulated))
                continue;
            if (plain_only && !c.name.ends_with("basic")) continue;
            EngineOutcome reference;
            reference.decision = c.expected;
            reference.output = c.expected_output;
            const std::size_t path = path_of(c.frame, reference);
            if (taken[path] || !claims_path(target, path)) continue;
            taken[path] = true;
            found.push_back({path, &c});
        }
    std::sort(found.begin(), found.end(), [](const Canary& a, const Canary& b) { return a.path < b.path; });
    return found;
}

// What the target did with a canary, in words; `offloaded` when it took it.
struct CanaryOutcome {
    bool offloaded = false;
    bool conforms = false;
    std::string what;
};

Result<CanaryOutcome> send(DifferentialEngine& engine, const FixedCase& c) {
    if (Status set = engine.set_table(c.config, c.bindings); !set) return set.error();
    auto compared = engine.compare(c.config, c.frame);
    if (!compared) return compared.error();
    CanaryOutcome outcome;
    if (compared->conformance) {
        const Conformance conformance = compared->conformance->conformance;
        outcome.offloaded = conformance != Conformance::not_offloaded && conformance != Conformance::untouched_pass;
        outcome.conforms = compared->agree;
        outcome.what = std::string(name(conformance));
    } else {
        outcome.offloaded = compared->xdp.decision.verdict != Verdict::pass;
        outcome.conforms = compared->agree;
        outcome.what = to_string(compared->xdp.decision);
    }
    if (!outcome.offloaded)
        outcome.what += ": passed to user space untouched. No entry of its maps matched the frame's binding";
    else if (!outcome.conforms)
        outcome.what += ", but not as the relay sends it:\n" + compared->explain();
    return outcome;
}

// For the paths left to user space: the fields whose other byte order
// makes the target take the canary.
Status print_byte_order_hints(const ProgramSource& source, const std::vector<Canary>& left) {
    return for_each_flipped_field(*source.target,
                                  [&](const TargetDescription& changed, const std::string& place, const char* order) {
                                      ProgramSource trial = source;
                                      trial.target = std::make_shared<const TargetDescription>(changed);
                                      DifferentialEngine engine(trial);
                                      for (const Canary& canary : left) {
                                          auto outcome = send(engine, *canary.fixed);
                                          if (!outcome) return Status{outcome.error()};
                                          if (outcome->offloaded)
                                              std::cout << "  hint: " << path_name(canary.path) << " is offloaded with "
                                                        << place << " read in " << order << " byte order\n";
                                      }
                                      return ok_status();
                                  });
}

// One form the canaries are sent in: the description as given, or, when
// it has wildcards and --wildcards left the choice open, each of the two
// ways they can be written.
struct CanaryForm {
    std::string label;
    ProgramSource source;
    bool any_address = false;  // the wildcards written as the any-address
};

std::vector<CanaryForm> wildcard_forms(const ProgramSource& source) {
    const TargetDescription& target = *source.target;
    if (!target.has_wildcards() || target.wildcard_form != WildcardForm::mixed) return {{"", source, false}};
    std::vector<CanaryForm> forms;
    for (WildcardForm form : {WildcardForm::address, WildcardForm::any}) {
        TargetDescription written = target;
        written.wildcard_form = form;
        ProgramSource trial = source;
        trial.target = std::make_shared<const TargetDescription>(std::move(written));
        const bool any = form == WildcardForm::any;
        forms.push_back({any ? " [wildcards: any-address]" : " [wildcards: address]", std::move(trial), any});
    }
    return forms;
}

// Sends each canary in one form; false when a send could not be made.
bool send_canaries(DifferentialEngine& engine, const CanaryForm& form, const std::vector<Canary>& paths,
                   std::vector<Canary>& left, bool& all_conform) {
    for (const Canary& canary : paths) {
        auto outcome = send(engine, *canary.fixed);
        if (!outcome) {
            std::cerr << "xdpturn target check: " << canary.fixed->name << ": " << outcome.error().message << "\n";
            return false;
        }
        const bool any_address = form.any_address;
        std::cout << std::left << std::setw(32) << path_name(canary.path)
                  << (outcome->offloaded ? "offloaded     " : "NOT OFFLOADED ") << outcome->what << "  ("
                  << canary.fixed->name << ")" << form.label << "\n";
        if (!outcome->offloaded && any_address)
            std::cout << "  hint: with the any-address in its wildcard fields the program does not take the frame: "
                         "does it fall back to 0.0.0.0 or :: there, or is a \"wildcard\" marked where it does not?\n";
        if (!outcome->offloaded && !any_address) left.push_back(canary);
        all_conform = all_conform && outcome->offloaded && outcome->conforms;
    }
    return true;
}

int check_target(const ProgramSource& source) {
    std::cout << "target " << source.describe() << "\n";
    const std::vector<CanaryForm> forms = wildcard_forms(source);
    // The first form's engine loads the program once, for the load check
    // and its canaries alike.
    DifferentialEngine engine(forms.front().source);
    const std::vector<Canary> paths = canaries(*source.target);
    if (paths.empty()) {
        std::cerr << "xdpturn target check: the description claims no path (offloads)\n";
        return exit_usage;
    }
    // Loading is the description's first test: every map and field must fit.
    if (auto loaded = engine.engine_for(paths.front().fixed->config); !loaded) {
        std::cout << "the object does not load through the description: " << loaded.error().message << "\n";
        return exit_disagreement;
    }
    std::cout << "loaded: every map and field of the description fits the object\n\n";
    std::vector<Canary> left;
    bool all_conform = true;
    for (std::size_t i = 0; i < forms.size(); ++i) {
        std::optional<DifferentialEngine> other;
        DifferentialEngine& sender = i == 0 ? engine : other.emplace(forms[i].source);
        if (!send_canaries(sender, forms[i], paths, left, all_conform)) return exit_usage;
    }
    if (!left.empty()) {
        std::cout << "\n"
                  << left.size() << " claimed path(s) left to user space; trying each field in the other "
                  << "byte order:\n";
        if (Status hinted = print_byte_order_hints(source, left); !hinted) {
            std::cerr << "xdpturn target check: " << hinted.error().message << "\n";
            return exit_usage;
        }
    }
    std::cout << "\n"
              << (all_conform ? "every claimed path offloads its canary as the relay sends it"
                              : "not every claimed path offloads its canary as the relay sends it: the description "
                                "(docs/targets.md) or the program")
              << "\n";
    return all_conform ? exit_equal : exit_disagreement;
}

}  // namespace

int target_command(int argc, char** argv) {
    po::options_description options(
        "xdpturn target check: load a target through its description and send one canary frame down each "
        "claimed path\n\noptions");
    ProgramFlags program;
    options.add_options()("help,h", "show this help")("object", po::value(&program.object),
                                                      "the target's object, instead of the one its description names")(
        "wildcards", po::value(&program.wildcards),
        "with wildcard fields: send the canaries with the address there (address), the any-address (any), or "
        "both (mixed, the default)");
    po::options_description hidden;
    std::vector<std::string> words;
    hidden.add_options()("word", po::value(&words));
    po::positional_options_description positional;
    positional.add("word", -1);
    const auto parsed = parse_options("target", argc, argv, options, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn target check DESCRIPTION.json [--object FILE.bpf.o]\n\n"
                  << options
                  << "\nPer claimed path (direction, family in, family out): offloaded or not, and for a path\n"
                     "left to user space the fields whose other byte order would offload it. A description\n"
                     "with wildcard fields sends each canary twice: with the address and with the any-address.\n"
                     "Exit status: 0 every claimed path offloads its canary as the relay sends it, 1 one\n"
                     "does not (or the object does not load through the description), 2 usage error.\n";
        return exit_equal;
    }
    if (words.size() != 2 || words[0] != "check") {
        std::cerr << "xdpturn target: usage: xdpturn target check DESCRIPTION.json [--object FILE.bpf.o]\n";
        return exit_usage;
    }
    program.target = words[1];
    auto source = program_source(program);
    if (!source) {
        std::cerr << "xdpturn target check: " << source.error().message << "\n";
        return exit_usage;
    }
    return check_target(*source);
}

}  // namespace xdpturn::cli
