# Warnings for our own targets only; generated code (ANTLR) gets its own
# relaxed target so that its noise never hides ours.
function(dnspc_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Woverloaded-virtual -Wimplicit-fallthrough)
endfunction()
