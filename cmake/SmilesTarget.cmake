# Per-target build settings: warnings, optional -Werror, optional sanitizers.
# Applied target by target so third-party code is never affected.
function(smiles_target_options target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(SMILES_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SMILES_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(SMILES_FUZZ)  # libraries linked into a fuzz target: instrumented, not a second main
    target_compile_options(${target} PRIVATE -g -O1 -fsanitize=fuzzer-no-link,address,undefined
                                             -fno-sanitize-recover=undefined)
  endif()
endfunction()
