// The stb headers: CMake copies Debian's into the build tree and puts them on ck_image's include path
// (emcc never looks in /usr/include).
// Include after defining any STB*_IMPLEMENTATION / configuration macros (see stb_impl.cpp).
#pragma once

#include "stb_image.h"

// stb_impl.cpp includes stb_image_write.h itself (it wraps the implementation in sanitizer
// attributes); everyone else gets the declarations here.
#ifndef CK_STB_IMAGE_WRITE_INCLUDED
#include "stb_image_write.h"
#endif
