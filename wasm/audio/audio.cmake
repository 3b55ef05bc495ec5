# The audio area: Opus encoding (libopus), included by CMakeLists.txt.
#   ck_audio     wasm/audio/*.cpp, linked to libopus
#   libopus      native: the system libopus (libopus-dev, the same 1.3.1 as the pinned source), so the
#                native gtests run under ASan against the real encoder (and its decoder judges them);
#                wasm: the static library scripts/build-opus.sh builds from the pinned source (float,
#                baseline: see ck_audio_module for why there is no SIMD module).
#   capturekit-audio   its own wasm module (wasm/bindings/audio_bindings.cpp), defined by
#                ck_audio_module(), which CMakeLists.txt calls once ck_add_module exists. It is separate
#                from capturekit-video so that a recording without audio, and one whose audio the browser's
#                AudioEncoder encodes, never downloads libopus.

add_library(ck_libopus INTERFACE)
if(EMSCRIPTEN)
  file(STRINGS "${CMAKE_SOURCE_DIR}/scripts/deps.lock" ck_opus_line REGEX "^opus[ \t]")
  string(REGEX REPLACE "^opus[ \t]+([^ \t]+).*" "\\1" ck_opus_version "${ck_opus_line}")
  string(REGEX REPLACE "^[0-9]+:" "" ck_opus_version "${ck_opus_version}")
  set(ck_opus_variant base)  # the SIMD configuration links no audio module (see ck_audio_module)
  set(CK_LIBOPUS_DIR "${CMAKE_SOURCE_DIR}/.cache/build/opus-${ck_opus_version}-wasm-${ck_opus_variant}"
      CACHE PATH "libopus built for wasm by scripts/build-opus.sh")
  if(NOT EXISTS "${CK_LIBOPUS_DIR}/libopus.a")
    message(FATAL_ERROR "${CK_LIBOPUS_DIR}/libopus.a missing: run scripts/build-opus.sh (scripts/build.sh wasm does)")
  endif()
  target_include_directories(ck_libopus SYSTEM INTERFACE "${CK_LIBOPUS_DIR}/include")
  target_link_libraries(ck_libopus INTERFACE "${CK_LIBOPUS_DIR}/libopus.a")
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CK_OPUS REQUIRED IMPORTED_TARGET opus)
  target_link_libraries(ck_libopus INTERFACE PkgConfig::CK_OPUS)
endif()

file(GLOB ck_audio_src CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/audio/*.cpp")
add_library(ck_audio STATIC ${ck_audio_src} "${CMAKE_SOURCE_DIR}/wasm/common/status.cpp")
target_include_directories(ck_audio PUBLIC "${CMAKE_SOURCE_DIR}/wasm")
target_compile_options(ck_audio PRIVATE ${CK_WARNINGS})
target_link_libraries(ck_audio PUBLIC ck_libopus)

# One build of the module: the -msimd128 libopus encoded no faster in Node (bench/audio.bench.js: within
# the noise, mono and stereo) and was 15 KB bigger gzipped, so the SIMD configuration builds none and
# js-glue/audio.js loads this one everywhere.
function(ck_audio_module)
  if(CK_SIMD)
    return()
  endif()
  ck_add_module(capturekit-audio createCaptureKitAudio
    SOURCES "${CMAKE_SOURCE_DIR}/wasm/bindings/audio_bindings.cpp"
    LIBS ck_audio)
endfunction()
