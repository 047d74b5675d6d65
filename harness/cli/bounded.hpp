// Whole-number options with their range, for boost::program_options. Its own
// parsing reads "-1" into an unsigned as 2^64-1 and says nothing, and takes
// "12abc" for some types; every numeric option of xdpturn is a Bounded, so
// each is decimal digits only, within its range, or a usage error that names
// the option and the range.
#pragma once

#include <boost/program_options.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace xdpturn::cli {

template <std::uint64_t Min, std::uint64_t Max>
struct Bounded {
    static_assert(Min <= Max);
    std::uint64_t value = Min;
    static constexpr std::uint64_t min = Min;
    static constexpr std::uint64_t max = Max;
};

// Decimal digits only, from `min` to `max`; nothing on failure.
inline std::optional<std::uint64_t> parse_whole_number(const std::string& text, std::uint64_t min, std::uint64_t max) {
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
    return value;
}

template <std::uint64_t Min, std::uint64_t Max>
void validate(boost::any& stored, const std::vector<std::string>& values, Bounded<Min, Max>*, int) {
    // Given twice, a single-valued option is a usage error, not the last one winning.
    boost::program_options::validators::check_first_occurrence(stored);
    const std::string& text = boost::program_options::validators::get_single_string(values);
    const auto value = parse_whole_number(text, Min, Max);
    if (!value)
        throw boost::program_options::error_with_option_name("option '%canonical_option%' takes a whole number from " +
                                                             std::to_string(Min) + " to " + std::to_string(Max) +
                                                             ", not '" + text + "'");
    stored = Bounded<Min, Max>{*value};
}

template <std::uint64_t Min, std::uint64_t Max>
std::ostream& operator<<(std::ostream& out, const Bounded<Min, Max>& number) {
    return out << number.value;
}

}  // namespace xdpturn::cli
