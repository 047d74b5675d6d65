# Building BPF objects with clang -target bpf -O2 -g (BTF kept), the
# machine's multiarch include directory for asm/types.h.
#
#   xdpturn_bpf_object(OUTPUT object SOURCE file.bpf.c
#                      [TARGET name]        a target that builds it with ALL
#                      [DEFINES name...]    -D flags (a mutant's bug, a variant)
#                      [INCLUDES dir...]    more -I directories
#                      [DEPENDS file...]    more headers it reads
#                      [SKELETON name]      also `bpftool gen skeleton ... name
#                                           NAME_bpf` into the object's .skel.h
#                      [FOREIGN])           third-party source, built as its
#                                           README says: none of our includes,
#                                           flags or warnings-as-errors
#
# Our own sources build with -Wall -Wextra -Werror, see bpf/ and depend on
# its ABI and bounds headers.
execute_process(COMMAND gcc -dumpmachine OUTPUT_VARIABLE XDPTURN_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

function(xdpturn_bpf_object)
  cmake_parse_arguments(PARSE_ARGV 0 arg "FOREIGN" "OUTPUT;SOURCE;TARGET;SKELETON" "DEFINES;INCLUDES;DEPENDS")
  if(NOT arg_OUTPUT OR NOT arg_SOURCE)
    message(FATAL_ERROR "xdpturn_bpf_object needs OUTPUT and SOURCE")
  endif()
  set(flags -target bpf -O2 -g -I/usr/include/${XDPTURN_MULTIARCH})
  set(depends ${arg_SOURCE} ${arg_DEPENDS})
  if(NOT arg_FOREIGN)
    list(APPEND flags -Wall -Wextra -Werror -I${CMAKE_SOURCE_DIR}/bpf)
    list(APPEND depends ${CMAKE_SOURCE_DIR}/bpf/xdpturn_abi.h ${CMAKE_SOURCE_DIR}/bpf/xdpturn_bounds.h)
  endif()
  foreach(dir IN LISTS arg_INCLUDES)
    list(APPEND flags -I${dir})
  endforeach()
  foreach(define IN LISTS arg_DEFINES)
    list(APPEND flags -D${define})
  endforeach()
  add_custom_command(
    OUTPUT ${arg_OUTPUT}
    COMMAND ${BPF_CLANG} ${flags} -c ${arg_SOURCE} -o ${arg_OUTPUT}
    DEPENDS ${depends}
    COMMENT "BPF ${arg_OUTPUT}"
    VERBATIM)
  set(outputs ${arg_OUTPUT})
  if(arg_SKELETON)
    string(REGEX REPLACE "\\.bpf\\.o$" ".skel.h" skeleton ${arg_OUTPUT})
    add_custom_command(
      OUTPUT ${skeleton}
      COMMAND sh -c "${BPFTOOL} gen skeleton ${arg_OUTPUT} name ${arg_SKELETON}_bpf > ${skeleton}.tmp"
      COMMAND ${CMAKE_COMMAND} -E rename ${skeleton}.tmp ${skeleton}
      DEPENDS ${arg_OUTPUT}
      COMMENT "bpftool gen skeleton (${arg_SKELETON})"
      VERBATIM)
    list(APPEND outputs ${skeleton})
  endif()
  if(arg_TARGET)
    add_custom_target(${arg_TARGET} ALL DEPENDS ${outputs})
  endif()
endfunction()
