# The H.264 area: OpenH264's encoder, included by CMakeLists.txt.
#   ck_libopenh264   the static encoder library scripts/build-openh264.sh builds from the pinned Debian
#                    source: native (g++, for the gtests and the benchmark peer), or wasm baseline / SIMD
#                    after CK_SIMD. The same C++ in all three (no assembly), so the gtests check what the
#                    wasm module runs.
#   ck_h264          wasm/h264/*.cpp (H264Encoder) + RGBA -> I420 from ck_pixels
#   capturekit-h264  its own wasm module (wasm/bindings/h264_bindings.cpp), defined by ck_h264_module(),
#                    which CMakeLists.txt calls once ck_add_module exists. Separate from capturekit-video
#                    so that only a recording that needs H.264 without WebCodecs downloads OpenH264.
file(STRINGS "${CMAKE_SOURCE_DIR}/scripts/deps.lock" ck_h264_line REGEX "^openh264[ \t]")
string(REGEX REPLACE "^openh264[ \t]+([^ \t]+).*" "\\1" ck_openh264_version "${ck_h264_line}")
string(REGEX REPLACE "^[0-9]+:" "" ck_openh264_version "${ck_openh264_version}")
if(EMSCRIPTEN)
  set(ck_openh264_variant base)
  if(CK_SIMD)
    set(ck_openh264_variant simd)
  endif()
else()
  set(ck_openh264_variant native)
endif()
set(CK_OPENH264_DIR "${CMAKE_SOURCE_DIR}/.cache/build/openh264-${ck_openh264_version}-${ck_openh264_variant}")
if(NOT EXISTS "${CK_OPENH264_DIR}/libopenh264enc.a")
  message(FATAL_ERROR "${CK_OPENH264_DIR}/libopenh264enc.a missing: run scripts/build-openh264.sh ${ck_openh264_variant} (scripts/build.sh does)")
endif()
add_library(ck_libopenh264 INTERFACE)
target_include_directories(ck_libopenh264 SYSTEM INTERFACE "${CK_OPENH264_DIR}/include")
target_link_libraries(ck_libopenh264 INTERFACE "${CK_OPENH264_DIR}/libopenh264enc.a")
if(NOT EMSCRIPTEN)
  find_package(Threads REQUIRED)
  target_link_libraries(ck_libopenh264 INTERFACE Threads::Threads)
endif()

file(GLOB ck_h264_src CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/h264/*.cpp")
add_library(ck_h264 STATIC ${ck_h264_src} "${CMAKE_SOURCE_DIR}/wasm/common/status.cpp")
target_include_directories(ck_h264 PUBLIC "${CMAKE_SOURCE_DIR}/wasm")
target_compile_options(ck_h264 PRIVATE ${CK_WARNINGS})
target_link_libraries(ck_h264 PUBLIC ck_pixels ck_libopenh264)

function(ck_h264_module)
  ck_add_module(capturekit-h264 createCaptureKitH264
    SOURCES "${CMAKE_SOURCE_DIR}/wasm/bindings/h264_bindings.cpp"
    LIBS ck_h264 ck_pixels)
endfunction()
