# Boost.Test executables, registered with CTest. BPF suites return 77 (CTest's
# "skipped") when BPF is unavailable, or fail when XDPTURN_REQUIRE_BPF=1.

function(xdpturn_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE xdpturn_harness Boost::unit_test_framework)
  target_compile_definitions(${name} PRIVATE
    XDPTURN_MUTANT_DIR="${XDPTURN_BPF_DIR}"
    XDPTURN_ARTIFACT_DIR="${CMAKE_BINARY_DIR}/test-artifacts")
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite)
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endfunction()

xdpturn_test(test_reference_model tests/test_reference_model.cpp)
xdpturn_test(test_comparator tests/test_comparator.cpp)
xdpturn_test(test_xdp_fixed_cases tests/test_xdp_fixed_cases.cpp tests/bpf_test_main.cpp)
xdpturn_test(test_mutants tests/test_mutants.cpp tests/bpf_test_main.cpp)
add_dependencies(test_mutants xdpturn_mutants)

# The command line's own exit codes and summary.
add_test(NAME cli_cases COMMAND xdpturn cases)
set_tests_properties(cli_cases PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME cli_usage_error COMMAND xdpturn cases --no-such-flag)
set_tests_properties(cli_usage_error PROPERTIES WILL_FAIL ON)
