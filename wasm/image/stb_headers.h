// Where the stb headers come from. Builds through CMake find the copies it placed in the build tree
// (on ck_image's include path; emcc never looks in /usr/include). A native tool that compiles these
// sources directly, as the fuzz target does to get coverage instrumentation inside the decoders,
// falls back to the same Debian headers in /usr/include/stb.
// Include after defining any STB*_IMPLEMENTATION / configuration macros (see stb_impl.cpp).
#pragma once

#if __has_include("stb_image.h")
#include "stb_image.h"
#else
#include <stb/stb_image.h>
#endif

// stb_impl.cpp includes stb_image_write.h itself (it wraps the implementation in sanitizer
// attributes); everyone else gets the declarations here.
#ifndef CK_STB_IMAGE_WRITE_INCLUDED
#if __has_include("stb_image_write.h")
#include "stb_image_write.h"
#else
#include <stb/stb_image_write.h>
#endif
#endif
