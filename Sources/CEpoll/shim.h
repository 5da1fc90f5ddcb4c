// Linux's epoll (part of glibc; Swift's Glibc module leaves sys/epoll.h out), for the
// benchmarks' load generator.
#ifdef __linux__
#include <sys/epoll.h>
#endif
