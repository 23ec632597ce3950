// Q4_K and Q6_K weights · Q8_K activations (256-element super-blocks): portable C, AVX2 and
// AVX-512 VNNI. Per super-block the integer part is exact; then one float update per
// (row, activation) pair, written with explicit fmaf so every variant (and every compiler's
// contraction choice) rounds the same way — the SIMD tiles equal the scalar ones bit for bit.
#include "kquants.h"

// Q4_K: x = d·sc_j·q − dmin·m_j for sub-block j (32 elements), q a nibble: elements 64g..64g+31
// are the low nibbles of qs[32g..32g+31] (sub-block 2g), the next 32 their high nibbles (2g+1).
CTRAM_INLINE float q4_K_block(const ctram_block_q4_K *wb, const ctram_block_q8k *ab) {
    int sc[8], m[8];
    for (int j = 0; j < 8; j++) ctram_scale_min_k4(j, wb->scales, &sc[j], &m[j]);
    int32_t sumi = 0, mins = 0;
    for (int g = 0; g < 4; g++) {
        const uint8_t *q = wb->qs + 32 * g;
        const int8_t *a = ab->qs + 64 * g;
        int32_t lo = 0, hi = 0;
        for (int l = 0; l < 32; l++) {
            lo += (q[l] & 0xF) * a[l];
            hi += (q[l] >> 4) * a[l + 32];
        }
        sumi += sc[2 * g] * lo + sc[2 * g + 1] * hi;
    }
    for (int j = 0; j < 8; j++) mins += m[j] * (ab->bsums[2 * j] + ab->bsums[2 * j + 1]);
    const float d = ctram_load_f16(&wb->d) * ab->d, dmin = ctram_load_f16(&wb->dmin) * ab->d;
    return fmaf(d, (float)sumi, -(dmin * (float)mins));
}

// Q6_K: x = d·scales[e/16]·(q − 32), q 6-bit: per 128-element half, element l + 32k (l < 32)
// takes its low 4 bits from ql[l + 32(k&1)] (low nibble for k < 2, high for k ≥ 2) and its top
// 2 bits from qh[l] >> 2k.
CTRAM_INLINE float q6_K_block(const ctram_block_q6_K *wb, const ctram_block_q8k *ab, float acc) {
    int32_t part[16];
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = wb->ql + 64 * h, *qh = wb->qh + 32 * h;
        const int8_t *a = ab->qs + 128 * h;
        for (int half = 0; half < 2; half++) { // l in [16·half, 16·half + 16): one scale per stream
            int32_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;
            for (int l = 16 * half; l < 16 * half + 16; l++) {
                p0 += ((int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32) * a[l];
                p1 += ((int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * a[l + 32];
                p2 += ((int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * a[l + 64];
                p3 += ((int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * a[l + 96];
            }
            const int g = 8 * h + half;
            part[g] = p0;
            part[g + 2] = p1;
            part[g + 4] = p2;
            part[g + 6] = p3;
        }
    }
    int32_t sumi = 0;
    for (int g = 0; g < 16; g++) sumi += wb->scales[g] * part[g];
    return fmaf(ctram_load_f16(&wb->d) * ab->d, (float)sumi, acc);
}

// The float update of one (row, activation) pair per super-block: acc += Q4_K's block value,
// acc = fma(d, sumi, acc) for Q6_K.
#define Q4_K_UPDATE(acc, wb, ab) ((acc) += q4_K_block(wb, ab))
#define Q6_K_UPDATE(acc, wb, ab) ((acc) = q6_K_block(wb, ab, acc))

#define q4_K_TILE(NW, NA) q4_K_tile(NW, NA, CTRAM_TILE_PASS)
#define q6_K_TILE(NW, NA) q6_K_tile(NW, NA, CTRAM_TILE_PASS)
K_TILE(q4_K, ctram_block_q4_K, Q4_K_UPDATE)
K_TILE(q6_K, ctram_block_q6_K, Q6_K_UPDATE)

#if CTRAM_X86
// SIMD tiles. Each weight super-block is unpacked once per tile and used for all NA activation
// rows; each (row i, activation j) pair keeps its block's integer dot product in an int32 vector.
// After the block those vectors are summed horizontally (integer: exact, so the lane layout is
// free) and the float update runs over "pair lanes" p = i·NA + j, 8 to a __m256 (two for 4 × 4),
// doing per lane exactly the scalar update above. So a pair's result is the same in every tile
// shape and every ISA.

// Q4_K, AVX2: per 32-element sub-block, maddubs(nibbles u8, a s8) → i16 pairs, madd with the
// broadcast sub-block scale → i32. Rows outermost and the sub-block loop kept rolled: each
// (row, sub-block) is still unpacked once for all NA activations, and only a few vectors besides
// the accumulators are live, within AVX2's 16 registers (unrolled, clang hoisted a block's
// unpacking and spilled the accumulators: a store per accumulation).
CTRAM_AVX2 CTRAM_INLINE void q4_K_tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i pair = _mm256_set1_epi16(0x0100); // bytes 0, 1 of every i16 lane: + 2k picks scale k
    for (int b = 0; b < nblocks; b++) {
        __m256i sc[4], mn[4], S[4][4], M[4][4];
        float wd[4], wm[4], ad[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q4_K));
        for (int i = 0; i < NW; i++) {
            Q4_K_ROW_SETUP(i)
            sc[i] = _mm256_broadcastsi128_si256(sc16);
            for (int j = 0; j < NA; j++) S[i][j] = _mm256_setzero_si256();
        }
        for (int i = 0; i < NW; i++) {
            __m256i pick = pair; // + 4g: scale 2g
#pragma clang loop unroll(disable)
            for (int g = 0; g < 4; g++) { // sub-blocks 2g (low nibbles of qs[32g…]) and 2g + 1 (high)
                const __m256i x = _mm256_loadu_si256((const __m256i *)(W_BLOCK(ctram_block_q4_K, i, b)->qs + 32 * g));
                const __m256i lo = _mm256_and_si256(x, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble);
                const __m256i slo = _mm256_shuffle_epi8(sc[i], pick);
                const __m256i shi = _mm256_shuffle_epi8(sc[i], _mm256_add_epi8(pick, _mm256_set1_epi8(2)));
                for (int j = 0; j < NA; j++) {
                    const int8_t *aq = A_BLOCK(j, b)->qs + 64 * g;
                    const __m256i pl = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq)), slo);
                    const __m256i ph = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + 32))), shi);
                    S[i][j] = _mm256_add_epi32(S[i][j], _mm256_add_epi32(pl, ph));
                }
                pick = _mm256_add_epi8(pick, _mm256_set1_epi8(4));
            }
        }
        Q4_K_MINS(M)
        Q4_K_UPDATE_PAIRS(S, M)
    }
    k_store(NW, NA, acc, y, y_stride);
}

// Q6_K, AVX2, 32 elements per step: half h, stream k (element 128h + 32k + l, l < 32) has q =
// low/high nibble of ql[64h + 32(k&1) + l] | 2 bits of qh[32h + l] << 4, and two scales
// (scales[8h + 2k] for l < 16 in the low 128-bit half, scales[8h + 2k + 1] in the high half).
// The unsigned q (0…63) feeds maddubs; the −32 offset is the exact correction
// −32·Σ scales[g]·bsums[g]: one madd of (−32·scales) with bsums, which starts the pair's sum.
CTRAM_AVX2 CTRAM_INLINE void q6_K_tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
    // i16 lane bytes 0, 1 in the low 128-bit half, 2, 3 in the high: + 4k picks scales 2k, 2k + 1
    const __m256i pair = _mm256_setr_m128i(_mm_set1_epi16(0x0100), _mm_set1_epi16(0x0302));
    for (int b = 0; b < nblocks; b++) {
        __m256i corr[4], S[4][4];
        float wd[4], ad[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q6_K));
        for (int i = 0; i < NW; i++) {
            const ctram_block_q6_K *wb = W_BLOCK(ctram_block_q6_K, i, b);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb->scales));
            corr[i] = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc16, 5));
            wd[i] = ctram_load_f16(&wb->d);
        }
        for (int j = 0; j < NA; j++) {
            const ctram_block_q8k *ab = A_BLOCK(j, b);
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)ab->bsums);
            ad[j] = ab->d;
            for (int i = 0; i < NW; i++) S[i][j] = _mm256_madd_epi16(corr[i], bsums);
        }
        for (int i = 0; i < NW; i++) { // rows outermost, halves rolled: as in the Q4_K tile
            const ctram_block_q6_K *wb = W_BLOCK(ctram_block_q6_K, i, b);
#pragma clang loop unroll(disable)
            for (int h = 0; h < 2; h++) {
                const __m256i sch = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(wb->scales + 8 * h))));
                for (int k = 0; k < 4; k++) {
                    const __m256i ql = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h + 32 * (k & 1)));
                    const __m256i qh = _mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h));
                    const __m256i lo = k < 2 ? _mm256_and_si256(ql, low4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
                    // qh bits 2k, 2k + 1 → bits 4, 5 (16-bit shifts; the mask drops what crosses bytes)
                    const __m256i top = k == 0 ? _mm256_slli_epi16(qh, 4) : k == 1 ? _mm256_slli_epi16(qh, 2)
                                      : k == 2 ? qh : _mm256_srli_epi16(qh, 2);
                    const __m256i q = _mm256_or_si256(lo, _mm256_and_si256(top, bits45));
                    const __m256i s = _mm256_shuffle_epi8(sch, _mm256_add_epi8(pair, _mm256_set1_epi8((char)(4 * k))));
                    for (int j = 0; j < NA; j++) {
                        const __m256i aq = _mm256_loadu_si256((const __m256i *)(A_BLOCK(j, b)->qs + 128 * h + 32 * k));
                        S[i][j] = _mm256_add_epi32(S[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(q, aq), s));
                    }
                }
            }
        }
        for (int c = 0; 8 * c < NW * NA; c++) {
            __m256i vs[8];
            K_PAIR_INTS(vs, S, c, _mm256_setzero_si256())
            q6_K_update(NW, NA, c, ctram_reduce8_epi32(vs), wd, ad, acc);
        }
    }
    k_store(NW, NA, acc, y, y_stride);
}

// AVX-512 VNNI. One 64-byte step: maddubs → i16 pairs, then one dpwssd multiplies them by the
// step's sub-block scales (i16 lanes) and accumulates. dpbusd would leave the per-sub-block
// scale to a 32-bit multiply afterwards, so the 16-bit form is the shorter chain. We call the
// saturating dpwssds — equal here: |sum| < 2²⁶ (Q6_K: 4 steps of 2·16128·128, plus the −32
// correction) — because clang splits plain dpwssd into madd + add to shorten the accumulator
// chain, an extra uop per step on ports 0 and 5, which 512-bit multiplies and all shuffles share.
// For the same reason weights are placed with broadcast loads and masked shifts (load ports and
// port 0), not inserts, and the pair sums are reduced with unpacks rather than hadd.

/// Hides how x was made from the optimizer: clang otherwise merges a 128-bit broadcast and the
/// vpshufb scale picks that follow it into vpermw, two port-5 uops each instead of one.
#define K_OPAQUE(x) __asm__("" : "+v"(x))

/// Lane l = the sum of the 16 int32 lanes of v[l].
CTRAM_VNNI CTRAM_INLINE __m256i k_reduce8x16(const __m512i v[8]) {
    __m512i t[4];
    for (int k = 0; k < 4; k++) // per 128-bit lane: [v2k: 0+2, v2k+1: 0+2, v2k: 1+3, v2k+1: 1+3]
        t[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]), _mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
    // per 128-bit lane: v0..v3 (u0), v4..v7 (u1), each summed over that lane's 4 values
    const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[0], t[1]), _mm512_unpackhi_epi64(t[0], t[1]));
    const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2], t[3]), _mm512_unpackhi_epi64(t[2], t[3]));
    // 128-bit lanes [u0 0+1, u0 2+3, u1 0+1, u1 2+3] → [u0 0+1, u1 0+1 | u0 2+3, u1 2+3] → halves added
    const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i x = _mm512_shuffle_i32x4(s, s, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_add_epi32(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1));
}

// Q4_K: a sub-block pair is one step (the low nibbles then the high nibbles of 32 qs bytes match
// 64 consecutive activations), with scales 2g in i16 lanes 0–15 and 2g + 1 in lanes 16–31.
CTRAM_VNNI CTRAM_INLINE void q4_K_tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    // bytes 0, 1 of each i16 lane in 128-bit lanes 0–1 (sub-block 2g), bytes 2, 3 in lanes 2–3 (2g + 1)
    const __m512i pair = _mm512_inserti64x4(_mm512_set1_epi16(0x0100), _mm256_set1_epi16(0x0302), 1);
    for (int b = 0; b < nblocks; b++) {
        __m512i sc[4], Z[4][4];
        __m256i mn[4], M[4][4];
        float wd[4], wm[4], ad[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q4_K));
        for (int i = 0; i < NW; i++) {
            Q4_K_ROW_SETUP(i)
            sc[i] = _mm512_broadcast_i32x4(sc16);
            K_OPAQUE(sc[i]);
            for (int j = 0; j < NA; j++) Z[i][j] = _mm512_setzero_si512();
        }
        for (int g = 0; g < 4; g++) {
            __m512i q[4], s[4];
            for (int i = 0; i < NW; i++) {
                const __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(W_BLOCK(ctram_block_q4_K, i, b)->qs + 32 * g)));
                q[i] = _mm512_and_si512(_mm512_mask_srli_epi16(x, 0xFFFF0000u, x, 4), nibble);
                s[i] = _mm512_shuffle_epi8(sc[i], _mm512_add_epi8(pair, _mm512_set1_epi8((char)(4 * g))));
            }
            for (int j = 0; j < NA; j++) {
                const __m512i aq = _mm512_loadu_si512(A_BLOCK(j, b)->qs + 64 * g);
                for (int i = 0; i < NW; i++) Z[i][j] = _mm512_dpwssds_epi32(Z[i][j], _mm512_maddubs_epi16(q[i], aq), s[i]);
            }
        }
        Q4_K_MINS(M)
        for (int c = 0; 8 * c < NW * NA; c++) {
            __m512i vs[8];
            __m256i vm[8];
            K_PAIR_INTS(vs, Z, c, _mm512_setzero_si512())
            K_PAIR_INTS(vm, M, c, _mm256_setzero_si256())
            q4_K_update(NW, NA, c, k_reduce8x16(vs), ctram_reduce8_epi32(vm), wd, wm, ad, acc);
        }
    }
    k_store(NW, NA, acc, y, y_stride);
}

// Q6_K: streams 0, 1 of a half share ql's low nibbles (64 bytes) and streams 2, 3 its high
// nibbles; qh beside qh >> 2 gives both streams' top bits. Four scales per step, one per 128-bit
// lane. The −32 correction starts each pair's sum, as in the AVX2 tile.
CTRAM_VNNI CTRAM_INLINE void q6_K_tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    // 128-bit lane t: bytes 2t, 2t + 1 of each i16 lane; + 8 picks scales 4 + t of the half
    const __m512i pick = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_setr_m128i(_mm_set1_epi16(0x0100), _mm_set1_epi16(0x0302))),
                                            _mm256_setr_m128i(_mm_set1_epi16(0x0504), _mm_set1_epi16(0x0706)), 1);
    for (int b = 0; b < nblocks; b++) {
        __m512i sch[2][4], Z[4][4];
        __m256i corr[4];
        float wd[4], ad[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q6_K));
        for (int i = 0; i < NW; i++) {
            const ctram_block_q6_K *wb = W_BLOCK(ctram_block_q6_K, i, b);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb->scales));
            corr[i] = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc16, 5));
            wd[i] = ctram_load_f16(&wb->d);
            sch[0][i] = _mm512_broadcast_i32x4(_mm256_castsi256_si128(sc16));
            sch[1][i] = _mm512_broadcast_i32x4(_mm256_extracti128_si256(sc16, 1));
            K_OPAQUE(sch[0][i]);
            K_OPAQUE(sch[1][i]);
        }
        for (int j = 0; j < NA; j++) {
            const ctram_block_q8k *ab = A_BLOCK(j, b);
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)ab->bsums);
            ad[j] = ab->d;
            for (int i = 0; i < NW; i++) Z[i][j] = _mm512_zextsi256_si512(_mm256_madd_epi16(corr[i], bsums));
        }
        for (int h = 0; h < 2; h++) {
            __m512i q[2][4], s[2][4];
            for (int i = 0; i < NW; i++) {
                const ctram_block_q6_K *wb = W_BLOCK(ctram_block_q6_K, i, b);
                const __m512i ql = _mm512_loadu_si512(wb->ql + 64 * h);
                const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h)));
                const __m512i top = _mm512_mask_srli_epi16(qh, 0xFFFF0000u, qh, 2); // [qh, qh >> 2]
                q[0][i] = _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_slli_epi16(top, 4), bits45));
                q[1][i] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), _mm512_and_si512(top, bits45));
                s[0][i] = _mm512_shuffle_epi8(sch[h][i], pick);
                s[1][i] = _mm512_shuffle_epi8(sch[h][i], _mm512_add_epi8(pick, _mm512_set1_epi8(8)));
            }
            for (int p = 0; p < 2; p++)
                for (int j = 0; j < NA; j++) {
                    const __m512i aq = _mm512_loadu_si512(A_BLOCK(j, b)->qs + 128 * h + 64 * p);
                    for (int i = 0; i < NW; i++) Z[i][j] = _mm512_dpwssds_epi32(Z[i][j], _mm512_maddubs_epi16(q[p][i], aq), s[p][i]);
                }
        }
        for (int c = 0; 8 * c < NW * NA; c++) {
            __m512i vs[8];
            K_PAIR_INTS(vs, Z, c, _mm512_setzero_si512())
            q6_K_update(NW, NA, c, k_reduce8x16(vs), wd, ad, acc);
        }
    }
    k_store(NW, NA, acc, y, y_stride);
}

#define q4_K_avx2_TILE(NW, NA) q4_K_tile_avx2(NW, NA, CTRAM_TILE_PASS)
#define q4_K_vnni_TILE(NW, NA) q4_K_tile_vnni(NW, NA, CTRAM_TILE_PASS)
#define q6_K_avx2_TILE(NW, NA) q6_K_tile_avx2(NW, NA, CTRAM_TILE_PASS)
#define q6_K_vnni_TILE(NW, NA) q6_K_tile_vnni(NW, NA, CTRAM_TILE_PASS)
K_ENTRY(q4_K_avx2, CTRAM_AVX2)
K_ENTRY(q4_K_vnni, CTRAM_VNNI)
K_ENTRY(q6_K_avx2, CTRAM_AVX2)
K_ENTRY(q6_K_vnni, CTRAM_VNNI)
#endif
