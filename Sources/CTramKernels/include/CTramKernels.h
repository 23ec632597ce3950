#ifndef CTRAM_KERNELS_H
#define CTRAM_KERNELS_H
// Quantized integer dot products (one function per ISA, picked at run time by the Swift side),
// activation quantizers, and the few atomics/futex calls the Swift thread pool needs.
#include <stddef.h>
#include <stdint.h>

// MARK: ISA

/// Instruction-set variants of the quantized kernels. Values are stable (used from Swift).
enum {
    CTRAM_ISA_SCALAR = 0,
    CTRAM_ISA_AVX2 = 1,
    CTRAM_ISA_AVX512VNNI = 2,
};
/// The best variant this CPU runs (AVX-512 VNNI needs F, BW, DQ, VL and VNNI).
int ctram_best_isa(void);

// MARK: Activation blocks (our own layouts; only our kernels read them)

/// One activation row quantized in blocks of 32 for Q8_0/Q4_0/Q4_1 weights: x ≈ d[b]·qs[32b + k].
/// Structure-of-arrays so the AVX-512 kernels load two blocks' values, and their per-lane
/// constants, with one 64-byte load each (n = blocks; every array starts 64-byte aligned):
///   qs   int8[32n]   the values
///   d    f32[n]      block scale;  s f32[n] = d·Σq (ggml Q8_1's idea: Q4_1's min term is one multiply)
///   sum  i32[n]      Σq (Q4_0's −8·Σq offset stays exact integer arithmetic)
///   dv   f32[8n]     d repeated over the 8 int32 lanes a 32-byte block's dot product occupies
///   sv   f32[8n]     s/8 repeated likewise (lanes sum to s)
///   c8   i32[8n]     −8·(sum of each 4 values): lane-wise Q4_0 offset correction
///   c128 i32[8n]     −128·(sum of each 4 values): lane-wise correction for Q8_0 weights read as u8 = q + 128
///   qx   int8[512·⌈n/16⌉]  the values interleaved for x16-packed weights: per group of 16 blocks,
///                    8 vectors of 64 bytes; vector k, bytes 4l…4l+3 = elements e(k)…e(k)+3 of
///                    block l of the group, e(k) = 4k for k < 4 and 16 + 4(k − 4) after; lanes
///                    past the last block are zero
typedef struct {
    const int8_t *qs;
    const float *d, *s;
    const int32_t *sum;
    const float *dv, *sv;
    const int32_t *c8, *c128;
    const int8_t *qx;
} ctram_q8a_row;

/// Bytes of one quantized activation row of `nblocks` blocks (a multiple of 64).
size_t ctram_q8a_row_bytes(int nblocks);
/// The arrays of the row stored at `row` (64-byte aligned).
ctram_q8a_row ctram_q8a_view(const void *row, int nblocks);
/// Quantizes `n` floats (multiple of 32) into the row at `row` (64-byte aligned,
/// ctram_q8a_row_bytes(n / 32) bytes). Round to nearest even.
void ctram_quantize_q8a(const float *x, void *row, int n);

/// 256 int8 activations as ggml's block_q8_K: x ≈ d·qs, bsums = sums of each 16. 292 bytes.
typedef struct {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
} ctram_block_q8k;

/// Quantizes `n` floats (multiple of 256) into n/256 ctram_block_q8k.
void ctram_quantize_q8k(const float *x, ctram_block_q8k *out, int n);

// MARK: Weight quantization

/// Quantizes `n` floats (a multiple of 32) into n/32 GGUF Q8_0 blocks at `y` (34 bytes each,
/// { f16 d; int8 qs[32] }, no alignment needed), byte for byte as ggml's quantize_row_q8_0_ref:
/// d = max|x|/127 (f32, then stored as f16 rounding to nearest even), qs = roundf(x·(1/d)), halves
/// rounded away from zero; an all-zero block gets d = 0 and zeros. Returns 1, or 0 when `x` holds
/// a NaN or an infinity (the blocks are then meaningless).
int ctram_quantize_row_q8_0(const float *x, void *y, int64_t n);

// MARK: Conversions

/// dst[i] = src[i] widened from IEEE half to float (exact), for i < n: 8 at a time with F16C.
void ctram_widen_f16(const uint16_t *src, float *dst, int64_t n);

// MARK: Quantized tiles

/// Computes an nw × na tile of dot products (1 ≤ nw ≤ 4, 1 ≤ na ≤ 4):
///   y[j*y_stride + i] = dot(weight row i, activation row j)  for i < nw, j < na
/// `w` points at weight row 0 (GGUF blocks, rows `w_stride` bytes apart), `a` at activation row 0
/// (a ctram_q8a row, or ctram_block_q8k[nblocks], rows `a_stride` bytes apart), each row
/// `nblocks` blocks long.
/// Batch invariance: every (i, j) is computed by the same per-block arithmetic in the same order
/// whatever nw and na are, so a row's result never depends on which tile computed it.
typedef void (*ctram_tile_fn)(int nw, int na, int nblocks, const void *w, size_t w_stride,
                              const void *a, size_t a_stride, float *y, size_t y_stride);

// MARK: Packed weights

/// Kernel type ids of rows repacked by ctram_pack_q4_1x16 / ctram_pack_q8_0x16 (GGML ids are
/// below 64).
enum { CTRAM_TYPE_Q4_1X16 = 0x103, CTRAM_TYPE_Q5_0X16 = 0x106, CTRAM_TYPE_Q8_0X16 = 0x108 };

/// Repacks `rows` Q4_1 rows of `nblocks` blocks (GGUF layout, 20·nblocks bytes a row) into the
/// x16 layout, the same size. Per row, group g of t = min(16, nblocks − 16g) blocks starts at byte
/// 320·g and holds: qs chunks kk = 0…3 (4t bytes each; bytes 4l…4l+3 of chunk kk are block l's
/// qs[4kk…4kk+3]), then the t f16 scales d, then the t f16 mins m. A 64-byte load of a chunk
/// puts block l's nibbles in int32 lane l, matching ctram_q8a_row.qx. A last group of ≤ 4 blocks
/// stays GGUF blocks (the kernels run it two blocks per vector).
void ctram_pack_q4_1x16(const void *src, void *dst, int rows, int nblocks);
/// Restores one packed row to GGUF Q4_1 blocks (for dequantization).
void ctram_unpack_q4_1x16_row(const void *src, void *dst, int nblocks);
/// Q8_0 in the same grouping, same size: group g (t blocks) starts at byte 544·g and holds qs
/// chunks k = 0…7 (4t bytes each; bytes 4l…4l+3 of chunk k are block l's qs[4k…4k+3] + 128, as
/// u8), then the t f16 scales. A last group of ≤ 4 blocks (in both layouts) stays GGUF blocks.
void ctram_pack_q8_0x16(const void *src, void *dst, int rows, int nblocks);
void ctram_unpack_q8_0x16_row(const void *src, void *dst, int nblocks);
/// Q5_0 (22 bytes a block), same size: each whole group of 16 blocks, 352 bytes at 352·g, holds
/// qs chunks kk = 0…3 (64 bytes each; bytes 4l…4l+3 are block l's qs[4kk…4kk+3]), then 64
/// bytes of fifth bits, bit-sliced (bit k of byte 4l + c = the fifth bit of element e(k) + c of
/// block l, e(k) as in ctram_q8a_row.qx: the bit that byte 4l + c of step k's vector needs), then
/// the 16 f16 scales. Blocks after the last whole group stay GGUF.
void ctram_pack_q5_0x16(const void *src, void *dst, int rows, int nblocks);
void ctram_unpack_q5_0x16_row(const void *src, void *dst, int nblocks);

/// The tile kernel for a GGML type id (8 Q8_0, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 20 IQ4_NL; 10 Q2_K,
/// 11 Q3_K, 12 Q4_K, 13 Q5_K, 14 Q6_K) or a packed
/// type id (CTRAM_TYPE_Q4_1X16, CTRAM_TYPE_Q5_0X16, CTRAM_TYPE_Q8_0X16) and an ISA.
/// Falls back to the best lower variant when one ISA has no dedicated code. NULL for other types.
ctram_tile_fn ctram_tile_kernel(uint32_t ggml_type, int isa);
/// The ISA whose code `ctram_tile_kernel(type, isa)` actually runs (after fallback).
int ctram_tile_kernel_isa(uint32_t ggml_type, int isa);

// MARK: Pool synchronisation (Swift 6 has Atomic only from macOS 15; these keep the pool portable)

static inline uint32_t ctram_atomic_load_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void ctram_atomic_store_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t ctram_atomic_add_u32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t ctram_atomic_sub_u32(uint32_t *p, uint32_t v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
static inline int64_t ctram_atomic_add_i64(int64_t *p, int64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline void ctram_atomic_store_i64(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t ctram_atomic_load_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void ctram_atomic_store_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t ctram_atomic_or_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t ctram_atomic_sub_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
/// Compare-and-swap; true if *p was `expected` and is now `desired`.
static inline _Bool ctram_atomic_cas_u64(uint64_t *p, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/// A CPU hint inside spin loops (PAUSE on x86, YIELD on ARM).
void ctram_cpu_relax(void);
/// Names the calling thread as the OS shows it (`top -H`, /proc/…/comm; 15 bytes kept on Linux).
void ctram_set_thread_name(const char *name);
/// Sleeps while *addr == expected (or spuriously). Linux futex; elsewhere a short sleep.
void ctram_futex_wait(uint32_t *addr, uint32_t expected);
/// Wakes every thread sleeping on addr.
void ctram_futex_wake_all(uint32_t *addr);

#endif
