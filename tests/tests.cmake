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
function(xdpturn_cli_test name expected_exit)
  add_test(NAME ${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_expect_exit ${expected_exit} ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()
xdpturn_cli_test(cli_cases_all_agree 0 $<TARGET_FILE:xdpturn> cases)
xdpturn_cli_test(cli_cases_mutant_disagrees 1 $<TARGET_FILE:xdpturn> cases
                 --object ${XDPTURN_BPF_DIR}/xdpturn_mutant_macs_not_swapped.bpf.o)
xdpturn_cli_test(cli_cases_missing_object 2 $<TARGET_FILE:xdpturn> cases --object /nonexistent.bpf.o)
xdpturn_cli_test(cli_unknown_flag 2 $<TARGET_FILE:xdpturn> cases --no-such-flag)
xdpturn_cli_test(cli_unknown_command 2 $<TARGET_FILE:xdpturn> frobnicate)
xdpturn_cli_test(cli_no_command 2 $<TARGET_FILE:xdpturn>)
xdpturn_cli_test(cli_help 0 $<TARGET_FILE:xdpturn> --help)
xdpturn_cli_test(cli_cases_help 0 $<TARGET_FILE:xdpturn> cases --help)

add_test(NAME format COMMAND ${CMAKE_SOURCE_DIR}/ci/check-format)
