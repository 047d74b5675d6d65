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

# The command line's own exit codes and summary.
function(xdpturn_cli_test name expected_exit)
  add_test(NAME ${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_expect_exit ${expected_exit} ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()

xdpturn_test(test_reference_model tests/test_reference_model.cpp)
xdpturn_test(test_comparator tests/test_comparator.cpp)
xdpturn_test(test_xdp_fixed_cases tests/test_xdp_fixed_cases.cpp tests/bpf_test_main.cpp)
xdpturn_test(test_mutants tests/test_mutants.cpp tests/bpf_test_main.cpp)
add_dependencies(test_mutants xdpturn_mutants)
xdpturn_test(test_validator tests/test_validator.cpp)
xdpturn_test(test_stun tests/test_stun.cpp)
xdpturn_test(test_turn_core tests/test_turn_core.cpp)
xdpturn_test(test_replay_parts tests/test_replay_parts.cpp)
xdpturn_test(test_properties tests/test_properties.cpp tests/bpf_test_main.cpp)
target_compile_definitions(test_properties PRIVATE XDPTURN_DEFAULT_RC_PARAMS="max_success=20000")
# The same suite must fail on a deliberately broken program.
add_test(NAME test_properties_fails_on_a_mutant
         COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_expect_exit 201 $<TARGET_FILE:test_properties>
                 --run_test=engines_agree_pass_is_unchanged_tx_is_valid)
set_tests_properties(test_properties_fails_on_a_mutant PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT
  "XDPTURN_TEST_OBJECT=${XDPTURN_BPF_DIR}/xdpturn_mutant_channel_header_in_checksum.bpf.o")

# The property run as users run it: the default case count, both jobs, and
# the coverage gate (every reachable contract row hit by both engines).
set(XDPTURN_TEST_CASES 20000 CACHE STRING "cases for the property runs of the test suite")
xdpturn_cli_test(check_default_run 0 $<TARGET_FILE:xdpturn> check --cases ${XDPTURN_TEST_CASES} --jobs 2
                 --require-coverage --counterexamples ${CMAKE_BINARY_DIR}/test-artifacts/check)
# Each deliberate bug is found within the default case count, and its saved
# counterexample reproduces it under `xdpturn replay`.
add_test(NAME check_finds_every_mutant
         COMMAND ${CMAKE_SOURCE_DIR}/tests/mutants_found_by_check $<TARGET_FILE:xdpturn> ${XDPTURN_BPF_DIR}
                 ${CMAKE_BINARY_DIR}/test-artifacts/mutants ${XDPTURN_TEST_CASES} 1 ${XDPTURN_MUTANTS})
set_tests_properties(check_finds_every_mutant PROPERTIES SKIP_RETURN_CODE 77)

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

# The bundled corpus replays as its manifests say (pcaps/, pcaps/rows/).
add_test(NAME corpus_replay
         COMMAND ${CMAKE_SOURCE_DIR}/tests/corpus_replay $<TARGET_FILE:xdpturn>
                 ${XDPTURN_BPF_DIR}/xdpturn_mutant_ports_not_in_checksum.bpf.o ${CMAKE_BINARY_DIR}/test-artifacts/corpus
                 ${CMAKE_SOURCE_DIR}/pcaps/manifest.json ${CMAKE_SOURCE_DIR}/pcaps/rows/manifest.json)
set_tests_properties(corpus_replay PROPERTIES SKIP_RETURN_CODE 77)
# The exported row corpus is what `xdpturn cases --export` makes now.
add_test(NAME row_corpus_is_current
         COMMAND sh -c "rm -rf rows && $<TARGET_FILE:xdpturn> cases --export rows >/dev/null && diff -r rows ${CMAKE_SOURCE_DIR}/pcaps/rows"
         WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/test-artifacts)

# The replay benchmark runs end to end on a generated capture (it measures;
# it asserts nothing about speed).
xdpturn_cli_test(bench_replay_runs 0 $<TARGET_FILE:xdpturn> bench --replay-megabytes 8
                 --work-dir ${CMAKE_BINARY_DIR}/test-artifacts/bench)

# coturn's test client against `xdpturn relay` on loopback (issue 5, item 6).
add_test(NAME coturn_interop COMMAND ${CMAKE_SOURCE_DIR}/tests/coturn_interop $<TARGET_FILE:xdpturn>)
set_tests_properties(coturn_interop PROPERTIES RUN_SERIAL ON TIMEOUT 300)

# The relay with --xdp on a veth pair in a network namespace (issue 5).
add_test(NAME xdp_netns_relay
         COMMAND ${CMAKE_SOURCE_DIR}/tests/xdp_netns_relay $<TARGET_FILE:xdpturn> ${XDPTURN_BPF_DIR}/xdp_pass.bpf.o)
set_tests_properties(xdp_netns_relay PROPERTIES RUN_SERIAL ON SKIP_RETURN_CODE 77 TIMEOUT 300)

# The relay survives a flood of hostile datagrams with bounded memory (issue 5).
add_test(NAME relay_flood COMMAND ${CMAKE_SOURCE_DIR}/tests/relay_flood $<TARGET_FILE:xdpturn> 5)
set_tests_properties(relay_flood PROPERTIES RUN_SERIAL ON TIMEOUT 120)
