// Activation quantizers: float rows → int8 blocks the tile kernels read. Portable C; each row is
// quantized on its own, so a row's blocks never depend on the batch around it.
#include "internal.h"
#include <math.h>

void ctram_quantize_q8a(const float *x, ctram_block_q8a *out, int n) {
    for (int b = 0; b < n / 32; b++, x += 32) {
        float amax = 0.0f;
        for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(x[k]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int k = 0; k < 32; k++) {
            const int q = (int)nearbyintf(x[k] * id);
            out[b].qs[k] = (int8_t)q;
            sum += q;
        }
        out[b].d = d;
        out[b].sum = sum;
        out[b].s = d * (float)sum;
        out[b].pad = 0;
    }
}

void ctram_quantize_q8k(const float *x, ctram_block_q8k *out, int n) {
    for (int b = 0; b < n / 256; b++, x += 256) {
        float amax = 0.0f;
        for (int k = 0; k < 256; k++) amax = fmaxf(amax, fabsf(x[k]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int k = 0; k < 256; k++) out[b].qs[k] = (int8_t)(int)nearbyintf(x[k] * id);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int k = 0; k < 16; k++) sum += out[b].qs[16 * g + k];
            out[b].bsums[g] = (int16_t)sum;
        }
        out[b].d = d;
    }
}
