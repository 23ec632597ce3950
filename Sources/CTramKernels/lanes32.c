// Q5_0, Q5_1 and IQ4_NL tiles (see lanes32.h for the arithmetic every variant shares).
#include "lanes32.h"

#define q5_0_SCALAR_TILE(NW, NA) q5_0_tile_scalar(NW, NA, CTRAM_TILE_PASS)
#define q5_1_SCALAR_TILE(NW, NA) q5_1_tile_scalar(NW, NA, CTRAM_TILE_PASS)
#define iq4_nl_SCALAR_TILE(NW, NA) iq4_nl_tile_scalar(NW, NA, CTRAM_TILE_PASS)
SCALAR_TILE(q5_0, 0)
SCALAR_TILE(q5_1, 1)
SCALAR_TILE(iq4_nl, 0)

#if CTRAM_X86
#define q5_0_avx2_TILE(NW, NA) q5_0_avx2_tile(NW, NA, CTRAM_TILE_PASS)
#define q5_1_avx2_TILE(NW, NA) q5_1_avx2_tile(NW, NA, CTRAM_TILE_PASS)
#define iq4_nl_avx2_TILE(NW, NA) iq4_nl_avx2_tile(NW, NA, CTRAM_TILE_PASS)
#define q5_0_vnni_TILE(NW, NA) q5_0_vnni_tile(NW, NA, CTRAM_TILE_PASS)
#define q5_1_vnni_TILE(NW, NA) q5_1_vnni_tile(NW, NA, CTRAM_TILE_PASS)
#define iq4_nl_vnni_TILE(NW, NA) iq4_nl_vnni_tile(NW, NA, CTRAM_TILE_PASS)
LANES_STEPS(q5_0_avx2, CTRAM_AVX2, ctram_block_q5_0, Q5_0_UNPACK, Q5_0_SCALE, NO_MIN, DOT_U8_AVX2, -16, 0, )
LANES_TILE(q5_0_avx2, CTRAM_AVX2)
LANES_STEPS(q5_1_avx2, CTRAM_AVX2, ctram_block_q5_1, Q5_1_UNPACK, Q5_1_SCALE, Q5_1_MIN, DOT_U8_AVX2, 0, 1, )
LANES_TILE(q5_1_avx2, CTRAM_AVX2)
LANES_STEPS(iq4_nl_avx2, CTRAM_AVX2, ctram_block_iq4_nl, IQ4_NL_UNPACK, IQ4_NL_SCALE, NO_MIN, DOT_S8_AVX2, 0, 0, IQ4_GRID_AVX2)
LANES_TILE(iq4_nl_avx2, CTRAM_AVX2)
LANES_STEPS(q5_0_vnni, CTRAM_VNNI, ctram_block_q5_0, Q5_0_UNPACK, Q5_0_SCALE, NO_MIN, DOT_U8_VNNI, -16, 0, )
LANES_TILE(q5_0_vnni, CTRAM_VNNI)
LANES_STEPS(q5_1_vnni, CTRAM_VNNI, ctram_block_q5_1, Q5_1_UNPACK, Q5_1_SCALE, Q5_1_MIN, DOT_U8_VNNI, 0, 1, )
LANES_TILE(q5_1_vnni, CTRAM_VNNI)
LANES_STEPS(iq4_nl_vnni, CTRAM_VNNI, ctram_block_iq4_nl, IQ4_NL_UNPACK, IQ4_NL_SCALE, NO_MIN, DOT_U8_VNNI, -128, 0, IQ4_GRID_VNNI)
LANES_TILE(iq4_nl_vnni, CTRAM_VNNI)
#endif
