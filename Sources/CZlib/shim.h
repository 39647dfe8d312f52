#ifndef LOCKWATCH_CZLIB_SHIM_H
#define LOCKWATCH_CZLIB_SHIM_H
#include <zlib.h>
#endif
