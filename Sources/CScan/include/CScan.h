#ifndef LW_CSCAN_H
#define LW_CSCAN_H
/* The C kernels of lockwatch's input stage, one header each. */
#include "lw_literals.h"
#include "lw_kv.h"
#include "lw_time.h"
#include "lw_names.h"
#include "lw_process.h"
#endif
