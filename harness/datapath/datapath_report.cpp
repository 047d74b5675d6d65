#include "harness/datapath/datapath_report.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace xdpturn::datapath {

namespace {

// A step loses packets when more than this share of what was offered is
// not delivered.
constexpr double lossy = 0.01;

std::uint64_t integrity_failures(const nlohmann::json& step) {
    const auto& checked = step.at("checked");
    return checked.at("corrupt").get<std::uint64_t>() + checked.at("duplicates").get<std::uint64_t>() +
           checked.at("wrong_flow").get<std::uint64_t>();
}

std::uint64_t drops(const nlohmann::json& step, std::initializer_list<const char*> names) {
    std::uint64_t total = 0;
    const auto& counted = step.at("drops");
    for (const char* name : names) total += counted.value(name, std::uint64_t{0});
    return total;
}

// Lost on the relay's side: its receive ring or its sockets.
std::uint64_t relay_side_drops(const nlohmann::json& step) {
    return drops(step, {"veth_into_relay", "relay_udp_receive_buffer"});
}

// Lost on the way to the sink, after the relay had done its work: the
// measurement's own loss.
std::uint64_t sink_side_drops(const nlohmann::json& step) {
    return drops(step, {"veth_out_of_relay", "sink_udp_receive_buffer"});
}

double share(std::uint64_t part, const nlohmann::json& step) {
    const auto offered = step.at("offered").get<std::uint64_t>();
    return offered == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(offered);
}

// What the relay lost: all that was not delivered, less what veth and the
// sink's sockets counted lost on the way to the sink after the relay had
// done its work (the measurement's loss, flagged on its own).
double relay_loss(const nlohmann::json& step) {
    return std::max(0.0, step.at("loss").get<double>() - share(sink_side_drops(step), step));
}

// The relay's cost per delivered packet at a step, on its own core: its
// process's time and its receive path's (NAPI threads and softirq).
double cost_per_packet_ns(const nlohmann::json& step) {
    return step.value("relay_process_ns_per_packet", 0.0) + step.value("relay_kernel_ns_per_packet", 0.0);
}

nlohmann::json relay_summary(const nlohmann::json& run) {
    double peak = 0, loss_free = 0, peak_offered = 0, cost_at_peak = 0;
    std::uint64_t failures = 0;
    nlohmann::json first_lossy_step = nullptr;
    nlohmann::json sink_limited = nlohmann::json::array();
    for (std::size_t i = 0; i < run.at("steps").size(); ++i) {
        const auto& step = run["steps"][i];
        const double delivered = step.at("delivered_pps").get<double>();
        const double offered = step.at("offered_pps").get<double>();
        if (delivered > peak) {
            peak = delivered;
            peak_offered = offered;
            cost_at_peak = cost_per_packet_ns(step);
        }
        if (relay_loss(step) <= lossy)
            loss_free = std::max(loss_free, offered);
        else if (first_lossy_step.is_null())
            first_lossy_step = i;
        failures += integrity_failures(step);
        if (share(sink_side_drops(step), step) > lossy) sink_limited.push_back(i);
    }
    // No loss at the top of the ladder: the relay could take more than the
    // generator offered, and its peak is a lower bound of its capacity.
    const auto& top = run.at("steps").back();
    const bool lower_bound = relay_loss(top) <= lossy;
    return {{"peak_delivered_pps", peak},
            {"offered_pps_at_peak", peak_offered},
            {"loss_free_pps", loss_free},
            {"first_lossy_step", first_lossy_step},
            {"peak_is_lower_bound", lower_bound},
            {"sink_limited_steps", sink_limited},
            {"integrity_failures", failures},
            // What one core would carry at the cost measured at the peak:
            // where the relay was not saturated, its capacity as its own
            // cost implies it, not a delivered rate. Meaningful where the
            // relay's work is charged to its core (the split layout).
            {"cost_at_peak_ns", cost_at_peak},
            {"core_capacity_pps", cost_at_peak > 0 ? nlohmann::json(1e9 / cost_at_peak) : nlohmann::json(nullptr)}};
}

const nlohmann::json* find_relay(const nlohmann::json& relays, const std::string& name) {
    for (const auto& relay : relays)
        if (relay.at("relay") == name) return &relay;
    return nullptr;
}

nlohmann::json ratio(const nlohmann::json& relays, const std::string& over, const std::string& under) {
    const auto* a = find_relay(relays, over);
    const auto* b = find_relay(relays, under);
    if (!a || !b) return nullptr;
    const double below = b->at("summary").at("peak_delivered_pps").get<double>();
    const double below_free = b->at("summary").at("loss_free_pps").get<double>();
    nlohmann::json result = {
        {"peak_delivered", below > 0 ? a->at("summary").at("peak_delivered_pps").get<double>() / below : 0.0}};
    const auto& capacity_a = a->at("summary").at("core_capacity_pps");
    const auto& capacity_b = b->at("summary").at("core_capacity_pps");
    result["core_capacity"] = capacity_a.is_number() && capacity_b.is_number()
                                  ? nlohmann::json(capacity_a.get<double>() / capacity_b.get<double>())
                                  : nlohmann::json(nullptr);
    result["loss_free"] = below_free > 0
                              ? nlohmann::json(a->at("summary").at("loss_free_pps").get<double>() / below_free)
                              : nlohmann::json(nullptr);
    // At the step where the slower relay first loses packets: what each
    // delivered under the same offered load.
    const auto& step = b->at("summary").at("first_lossy_step");
    if (step.is_number() && step.get<std::size_t>() < a->at("steps").size()) {
        const auto index = step.get<std::size_t>();
        const double slow = b->at("steps")[index].at("delivered_pps").get<double>();
        result["where_" + under + "_starts_losing"] = {
            {"step", index},
            {"offered_pps", b->at("steps")[index].at("offered_pps")},
            {"ratio", slow > 0 ? a->at("steps")[index].at("delivered_pps").get<double>() / slow : 0.0}};
    }
    return result;
}

std::string rate_text(double pps) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(0);
    if (pps >= 1e6)
        text << std::setprecision(2) << pps / 1e6 << "M";
    else if (pps >= 1e3)
        text << pps / 1e3 << "k";
    else
        text << pps;
    return text.str();
}

std::string micros(const nlohmann::json& ns) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << ns.get<double>() / 1000.0;
    return text.str();
}

}  // namespace

Result<nlohmann::json> summarise(const std::vector<nlohmann::json>& runs) {
    nlohmann::json relays = nlohmann::json::array();
    std::uint64_t failures = 0;
    for (const auto& run : runs) {
        if (!run.is_object() || !run.contains("relay") || !run.contains("steps") || !run["steps"].is_array())
            return Error{"not a relay's run (no \"relay\" and \"steps\")"};
        nlohmann::json relay = run;
        try {
            relay["summary"] = relay_summary(run);
        } catch (const nlohmann::json::exception& error) {
            return Error{"relay '" + run["relay"].dump() + "': " + error.what()};
        }
        failures += relay["summary"]["integrity_failures"].get<std::uint64_t>();
        relays.push_back(std::move(relay));
    }
    return nlohmann::json{{"relays", relays},
                          {"integrity_failures", failures},
                          {"ratios",
                           {{"xdp_over_user", ratio(relays, "xdp", "user")},
                            {"xdp_over_coturn", ratio(relays, "xdp", "coturn")},
                            // pion/turn's offload, under the same relay and load: ours against
                            // it, and it against user space.
                            {"xdp_over_pion", ratio(relays, "xdp", "pion")},
                            {"pion_over_user", ratio(relays, "pion", "user")}}}};
}

void print_table(std::ostream& out, const nlohmann::json& report) {
    out << std::left << std::setw(8) << "relay" << std::right << std::setw(10) << "offered" << std::setw(11)
        << "delivered" << std::setw(8) << "loss%" << std::setw(8) << "relay%" << std::setw(7) << "sink%" << std::setw(9)
        << "p50 us" << std::setw(9) << "p99 us" << std::setw(10) << "p99.9 us" << std::setw(12) << "process ns/p"
        << std::setw(11) << "kernel ns/p" << std::setw(10) << "xdp ns/p" << std::setw(7) << "bad"
        << "\n";
    for (const auto& relay : report.at("relays")) {
        for (const auto& step : relay.at("steps")) {
            out << std::left << std::setw(8) << relay.at("relay").get<std::string>() << std::right << std::setw(10)
                << rate_text(step.at("offered_pps").get<double>()) << std::setw(11)
                << rate_text(step.at("delivered_pps").get<double>()) << std::setw(8) << std::fixed
                << std::setprecision(1) << step.at("loss").get<double>() * 100 << std::setw(8)
                << share(relay_side_drops(step), step) * 100 << std::setw(7) << share(sink_side_drops(step), step) * 100
                << std::setw(9) << micros(step["delay_ns"]["p50"]) << std::setw(9) << micros(step["delay_ns"]["p99"])
                << std::setw(10) << micros(step["delay_ns"]["p999"]) << std::setw(12) << std::setprecision(0)
                << step.at("relay_process_ns_per_packet").get<double>() << std::setw(11)
                << step.at("relay_kernel_ns_per_packet").get<double>() << std::setw(10)
                << (step.contains("xdp") ? std::to_string(static_cast<int>(step["xdp"]["ns_per_run"].get<double>()))
                                         : std::string("-"))
                << std::setw(7) << integrity_failures(step) << "\n";
        }
        const auto& summary = relay.at("summary");
        out << "  " << relay.at("relay").get<std::string>() << ": peak "
            << rate_text(summary.at("peak_delivered_pps").get<double>()) << " delivered/s"
            << (summary.at("peak_is_lower_bound").get<bool>() ? " (no loss at the top: the generator's limit)" : "")
            << ", loss-free up to " << rate_text(summary.at("loss_free_pps").get<double>()) << " offered/s";
        if (summary.at("core_capacity_pps").is_number())
            out << "; at the peak " << std::setprecision(0) << summary.at("cost_at_peak_ns").get<double>()
                << " ns a packet on its core: a core's worth is "
                << rate_text(summary.at("core_capacity_pps").get<double>()) << "/s";
        if (relay.contains("xdp_program"))
            out << "; program " << relay["xdp_program"]["name"].get<std::string>() << ": "
                << relay["xdp_program"]["verified_instructions"] << " instructions verified";
        out << "\n";
        if (!summary.at("sink_limited_steps").empty())
            out << "  " << relay.at("relay").get<std::string>() << ": steps " << summary.at("sink_limited_steps").dump()
                << " lost more than 1% on the way to the sink: the measurement, not the relay, limited them\n";
    }
    for (const auto& [name, value] : report.at("ratios").items()) {
        if (value.is_null()) continue;
        out << name << ": " << std::setprecision(2) << value.at("peak_delivered").get<double>() << "x peak delivered";
        if (!value.at("loss_free").is_null()) out << ", " << value.at("loss_free").get<double>() << "x loss-free rate";
        if (!value.at("core_capacity").is_null())
            out << ", " << value.at("core_capacity").get<double>() << "x a core's worth";
        for (const auto& [key, point] : value.items())
            if (key.rfind("where_", 0) == 0)
                out << ", " << point.at("ratio").get<double>() << "x delivered at "
                    << rate_text(point.at("offered_pps").get<double>()) << "/s offered (" << key.substr(6) << ")";
        out << "\n";
    }
}

Status plot(const nlohmann::json& report, const std::string& png, const std::string& heading) {
    const std::string title = heading.empty() ? "" : heading + ": ";
    const std::filesystem::path image(png);
    const std::filesystem::path base = image.parent_path() / image.stem();
    std::ostringstream script;
    script << "set terminal pngcairo size 1200,500 font ',10'\nset output '" << image.string() << "'\n"
           << "set multiplot layout 1,2\nset logscale xy\nset grid\nset key top left\n"
           << "set xlabel 'offered packets/s'\nset ylabel 'delivered packets/s'\n"
           << "set title '" << title << "Delivered against offered load'\n";
    std::vector<std::string> relays;
    for (const auto& relay : report.at("relays")) {
        const std::string name = relay.at("relay").get<std::string>();
        const std::string data = base.string() + "-" + name + ".dat";
        std::ofstream file(data);
        file << "# offered_pps delivered_pps p50_us p99_us p999_us\n";
        for (const auto& step : relay.at("steps"))
            file << step["offered_pps"].get<double>() << " " << step["delivered_pps"].get<double>() << " "
                 << step["delay_ns"]["p50"].get<double>() / 1000 << " " << step["delay_ns"]["p99"].get<double>() / 1000
                 << " " << step["delay_ns"]["p999"].get<double>() / 1000 << "\n";
        if (!file) return Error{"cannot write " + data};
        relays.push_back(name);
    }
    // One colour per relay; its p99 dashed beside its solid p50.
    auto curves = [&](const std::string& columns, const std::string& suffix, int dash) {
        std::string line;
        for (std::size_t i = 0; i < relays.size(); ++i)
            line += (i ? ", " : "") + std::string("'") + base.string() + "-" + relays[i] + ".dat' using " + columns +
                    " with linespoints linecolor " + std::to_string(i + 1) + " dashtype " + std::to_string(dash) +
                    " title '" + relays[i] + suffix + "'";
        return line;
    };
    script << "plot " << curves("1:2", "", 1) << "\n"
           << "set ylabel 'one-way delay, us'\nset title '" << title << "Delay (p50 solid, p99 dashed)'\n"
           << "plot " << curves("1:3", " p50", 1) << ", " << curves("1:4", " p99", 2) << "\nunset multiplot\n";
    const std::string script_path = base.string() + ".gp";
    std::ofstream(script_path) << script.str();
    FILE* gnuplot = popen(("gnuplot '" + script_path + "' 2>&1").c_str(), "r");
    if (!gnuplot) return Error{"cannot run gnuplot"};
    std::string output;
    char buffer[256];
    while (std::fgets(buffer, sizeof(buffer), gnuplot)) output += buffer;
    const int status = pclose(gnuplot);
    if (status != 0)
        return Error{WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "gnuplot is not installed (Debian: gnuplot-nox)"
                                                                     : "gnuplot failed: " + output};
    return ok_status();
}

}  // namespace xdpturn::datapath
