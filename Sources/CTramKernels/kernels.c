#include "CTramKernels.h"
int ctram_kernels_version(void) { return 1; }
