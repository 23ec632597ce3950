// Activation quantizers: float rows → int8 blocks the tile kernels read. Portable C; each row is
// quantized on its own, so a row's blocks never depend on the batch around it.
#include "internal.h"
#include <math.h>

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t ctram_q8a_row_bytes(int nblocks) {
    const size_t n = (size_t)nblocks;
    return round64(32 * n) + 3 * round64(4 * n) + 4 * round64(32 * n) + 512 * ((n + 15) / 16);
}

ctram_q8a_row ctram_q8a_view(const void *row, int nblocks) { return ctram_q8a_view_inline(row, nblocks); }

void ctram_quantize_q8a(const float *x, void *row, int n) {
    const int nblocks = n / 32;
    ctram_q8a_row v = ctram_q8a_view(row, nblocks);
    int8_t *qs = (int8_t *)v.qs;
    float *d = (float *)v.d, *s = (float *)v.s, *dv = (float *)v.dv, *sv = (float *)v.sv;
    int32_t *sum = (int32_t *)v.sum, *c8 = (int32_t *)v.c8, *c128 = (int32_t *)v.c128;
    int8_t *qx = (int8_t *)v.qx;
    memset(qx, 0, 512 * (size_t)((nblocks + 15) / 16));
    for (int b = 0; b < nblocks; b++, x += 32) {
        float amax = 0.0f;
        for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(x[k]));
        const float db = amax / 127.0f;
        const float id = db != 0.0f ? 1.0f / db : 0.0f;
        int32_t total = 0;
        for (int k = 0; k < 32; k++) {
            const int q = (int)nearbyintf(x[k] * id);
            qs[32 * b + k] = (int8_t)q;
            total += q;
        }
        d[b] = db;
        sum[b] = total;
        s[b] = db * (float)total;
        for (int l = 0; l < 8; l++) {
            const int32_t group = qs[32 * b + 4 * l] + qs[32 * b + 4 * l + 1] + qs[32 * b + 4 * l + 2] + qs[32 * b + 4 * l + 3];
            dv[8 * b + l] = db;
            sv[8 * b + l] = s[b] * 0.125f;
            c8[8 * b + l] = -8 * group;
            c128[8 * b + l] = -128 * group;
        }
        int8_t *lane = qx + 512 * (b / 16) + 4 * (b % 16);  // this block's lane in its group's 8 vectors
        for (int k = 0; k < 8; k++) memcpy(lane + 64 * k, qs + 32 * b + (k < 4 ? 4 * k : 16 + 4 * (k - 4)), 4);
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
