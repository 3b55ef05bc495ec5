// Two POSIX thread-attribute calls that OpenH264's thread library (codec/common/src/WelsThreadLib.cpp)
// links against but Emscripten 3.1.6's libc lacks without -pthread. Our encoder runs with one thread
// (h264_encoder.h: iMultipleThreadIdc 1), so OpenH264 never creates a thread and never reaches them; if it
// ever did, thread creation itself fails in a build without threads. They accept and do nothing.
#ifdef __EMSCRIPTEN__
#include <pthread.h>

extern "C" {
int pthread_attr_setschedpolicy(pthread_attr_t*, int) { return 0; }
int pthread_attr_setscope(pthread_attr_t*, int) { return 0; }
}
#endif
