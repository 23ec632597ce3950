#ifndef CTRAM_KERNELS_H
#define CTRAM_KERNELS_H
#include <stddef.h>
#include <stdint.h>
int ctram_kernels_version(void);
#endif
