// main() for suites that need BPF: probe first, then skip (exit 77) with the
// reason, or fail when XDPTURN_REQUIRE_BPF=1, or run the tests.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE xdpturn_bpf
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "harness/xdp/bpf_environment.hpp"

#include <cstdlib>

int main(int argc, char** argv) {
#ifdef XDPTURN_DEFAULT_RC_PARAMS
    // The suite's default case count; RC_PARAMS from the environment wins.
    setenv("RC_PARAMS", XDPTURN_DEFAULT_RC_PARAMS, 0);
#endif
    const int gate = xdpturn::bpf_tests_gate(argv[0]);
    if (gate >= 0) return gate;
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
