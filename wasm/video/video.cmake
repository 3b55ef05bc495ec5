# The video area: VP8/VP9 encoding (libvpx) and WebM muxing (libwebm), included by CMakeLists.txt.
#   ck_libwebm   libwebm's muxer (mkvmuxer), compiled from the pinned Debian source (never edited); WebM is
#                read by our own parser (webm_parser.h), so libwebm's mkvparser/mkvreader are not built
#   ck_video     wasm/video/*.cpp, linked to ck_libwebm, libvpx and ck_pixels (RGBA -> I420)
#   libvpx       native: the system libvpx (libvpx-dev, the same 1.12 as the pinned source), so the native
#                gtests run under ASan against a real encoder; wasm: the static library that
#                scripts/build-libvpx.sh builds from the pinned source, baseline or SIMD after CK_SIMD.
#   capturekit-video   the second wasm module (wasm/bindings/video_bindings.cpp), defined by
#                ck_video_module(), which CMakeLists.txt calls once ck_add_module exists.

if(NOT EXISTS "${CK_LIBWEBM_DIR}/mkvmuxer/mkvmuxer.cc")
  message(FATAL_ERROR "libwebm sources missing in ${CK_LIBWEBM_DIR}: run scripts/fetch-deps.sh")
endif()

# ---- third party: libwebm's muxer ----
add_library(ck_libwebm STATIC
  "${CK_LIBWEBM_DIR}/mkvmuxer/mkvmuxer.cc"
  "${CK_LIBWEBM_DIR}/mkvmuxer/mkvmuxerutil.cc"
  "${CK_LIBWEBM_DIR}/mkvmuxer/mkvwriter.cc")
target_include_directories(ck_libwebm SYSTEM PUBLIC "${CK_LIBWEBM_DIR}")
target_compile_options(ck_libwebm PRIVATE -w)

# ---- third party: libvpx ----
add_library(ck_libvpx INTERFACE)
if(EMSCRIPTEN)
  file(STRINGS "${CMAKE_SOURCE_DIR}/scripts/deps.lock" ck_vpx_line REGEX "^libvpx[ \t]")
  string(REGEX REPLACE "^libvpx[ \t]+([^ \t]+).*" "\\1" ck_vpx_version "${ck_vpx_line}")
  string(REGEX REPLACE "^[0-9]+:" "" ck_vpx_version "${ck_vpx_version}")
  set(ck_vpx_variant base)
  if(CK_SIMD)
    set(ck_vpx_variant simd)
  endif()
  set(CK_LIBVPX_DIR "${CMAKE_SOURCE_DIR}/.cache/build/libvpx-${ck_vpx_version}-wasm-${ck_vpx_variant}"
      CACHE PATH "libvpx built for wasm by scripts/build-libvpx.sh")
  if(NOT EXISTS "${CK_LIBVPX_DIR}/libvpx.a")
    message(FATAL_ERROR "${CK_LIBVPX_DIR}/libvpx.a missing: run scripts/build-libvpx.sh (scripts/build.sh wasm does)")
  endif()
  target_include_directories(ck_libvpx SYSTEM INTERFACE "${CK_LIBVPX_DIR}/include")
  target_link_libraries(ck_libvpx INTERFACE "${CK_LIBVPX_DIR}/libvpx.a")
  if(CK_SIMD)
    # libvpx's hottest DSP functions in wasm SIMD128 (wasm/video/vpx_simd/vpx_simd_rtcd.h says which):
    # the SIMD libvpx.a calls them in place of its C versions, so they link with it.
    set(CK_LIBVPX_SRC "${CK_DEPS_DIR}/libvpx-${ck_vpx_version}")
    file(GLOB ck_vpx_simd_src CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/video/vpx_simd/*.c")
    add_library(ck_vpx_simd STATIC ${ck_vpx_simd_src})
    target_include_directories(ck_vpx_simd PUBLIC "${CMAKE_SOURCE_DIR}/wasm/video/vpx_simd")
    target_include_directories(ck_vpx_simd SYSTEM PRIVATE "${CK_LIBVPX_DIR}/config" "${CK_LIBVPX_SRC}")
    target_compile_options(ck_vpx_simd PRIVATE -Wall -Wextra)
    target_link_libraries(ck_libvpx INTERFACE ck_vpx_simd)

    # The check program: every *_wasm function against its libvpx *_c twin on random and extreme
    # inputs (run by tests/node/video/vpx-simd.test.mjs with Node).
    add_executable(vpx_simd_check "${CMAKE_SOURCE_DIR}/tests/wasm/vpx_simd_check.c")
    target_include_directories(vpx_simd_check SYSTEM PRIVATE "${CK_LIBVPX_DIR}/config" "${CK_LIBVPX_SRC}")
    target_link_libraries(vpx_simd_check PRIVATE ck_libvpx)
    target_link_options(vpx_simd_check PRIVATE -sENVIRONMENT=node -sEXIT_RUNTIME=1 -sSINGLE_FILE=1)
    set_target_properties(vpx_simd_check PROPERTIES SUFFIX ".cjs") # the package is "type": "module"
  endif()
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CK_VPX REQUIRED IMPORTED_TARGET vpx)
  target_link_libraries(ck_libvpx INTERFACE PkgConfig::CK_VPX)
endif()

# ---- our area ----
file(GLOB ck_video_src CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/video/*.cpp")
add_library(ck_video STATIC ${ck_video_src} "${CMAKE_SOURCE_DIR}/wasm/common/status.cpp")
target_include_directories(ck_video PUBLIC "${CMAKE_SOURCE_DIR}/wasm")
target_compile_options(ck_video PRIVATE ${CK_WARNINGS})
target_link_libraries(ck_video PUBLIC ck_pixels ck_libwebm ck_libvpx)

# The wasm module. Called by CMakeLists.txt after ck_add_module is defined (inside if(EMSCRIPTEN)).
function(ck_video_module)
  ck_add_module(capturekit-video createCaptureKitVideo
    SOURCES "${CMAKE_SOURCE_DIR}/wasm/bindings/video_bindings.cpp"
    LIBS ck_video ck_pixels)
endfunction()
