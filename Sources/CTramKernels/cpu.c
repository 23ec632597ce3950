// CPU feature detection, the pool's futex, thread names, and the (type, ISA) → tile kernel table.
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "internal.h"
#include <stdio.h>
#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <time.h>
#endif

int ctram_best_isa(void) {
#if CTRAM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vnni"))
        return CTRAM_ISA_AVX512VNNI;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CTRAM_ISA_AVX2;
#endif
    return CTRAM_ISA_SCALAR;
}

void ctram_set_thread_name(const char *name) {
#if defined(__linux__)
    char truncated[16];
    snprintf(truncated, sizeof truncated, "%s", name);  // the kernel keeps 15 bytes
    pthread_setname_np(pthread_self(), truncated);
#elif defined(__APPLE__)
    pthread_setname_np(name);
#else
    (void)name;
#endif
}

void ctram_cpu_relax(void) {
#if CTRAM_X86
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void ctram_futex_wait(uint32_t *addr, uint32_t expected) {
#if defined(__linux__)
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) == expected) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
#endif
}

void ctram_futex_wake_all(uint32_t *addr) {
#if defined(__linux__)
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

static int resolved_isa(uint32_t type, int isa) {
    int best = ctram_best_isa();
    if (isa > best) isa = best;
    switch (type) {
    case 8: case 2: case 3: case 6: case 7: case 10: case 11: case 12: case 13: case 14: case 20: return isa;
    case CTRAM_TYPE_Q4_1X16: case CTRAM_TYPE_Q5_0X16: case CTRAM_TYPE_Q8_0X16: return isa;
    default: return -1;
    }
}

int ctram_tile_kernel_isa(uint32_t ggml_type, int isa) { return resolved_isa(ggml_type, isa); }

ctram_tile_fn ctram_tile_kernel(uint32_t type, int isa) {
    int use = resolved_isa(type, isa);
    if (use < 0) return NULL;
#if CTRAM_X86
    if (use == CTRAM_ISA_AVX512VNNI) {
        switch (type) {
        case 8: return ctram_tile_q8_0_vnni;
        case 2: return ctram_tile_q4_0_vnni;
        case 3: return ctram_tile_q4_1_vnni;
        case 12: return ctram_tile_q4_K_vnni;
        case 14: return ctram_tile_q6_K_vnni;
        case 6: return ctram_tile_q5_0_vnni;
        case 7: return ctram_tile_q5_1_vnni;
        case 20: return ctram_tile_iq4_nl_vnni;
        case 10: return ctram_tile_q2_K_vnni;
        case 11: return ctram_tile_q3_K_vnni;
        case 13: return ctram_tile_q5_K_vnni;
        case CTRAM_TYPE_Q4_1X16: return ctram_tile_q4_1x16_vnni;
        case CTRAM_TYPE_Q5_0X16: return ctram_tile_q5_0x16_vnni;
        case CTRAM_TYPE_Q8_0X16: return ctram_tile_q8_0x16_vnni;
        }
    }
    if (use == CTRAM_ISA_AVX2) {
        switch (type) {
        case 8: return ctram_tile_q8_0_avx2;
        case 2: return ctram_tile_q4_0_avx2;
        case 3: return ctram_tile_q4_1_avx2;
        case 12: return ctram_tile_q4_K_avx2;
        case 14: return ctram_tile_q6_K_avx2;
        case 6: return ctram_tile_q5_0_avx2;
        case 7: return ctram_tile_q5_1_avx2;
        case 20: return ctram_tile_iq4_nl_avx2;
        case 10: return ctram_tile_q2_K_avx2;
        case 11: return ctram_tile_q3_K_avx2;
        case 13: return ctram_tile_q5_K_avx2;
        case CTRAM_TYPE_Q4_1X16: return ctram_tile_q4_1x16_avx2;
        case CTRAM_TYPE_Q5_0X16: return ctram_tile_q5_0x16_avx2;
        case CTRAM_TYPE_Q8_0X16: return ctram_tile_q8_0x16_avx2;
        }
    }
#endif
    switch (type) {
    case 8: return ctram_tile_q8_0_scalar;
    case 2: return ctram_tile_q4_0_scalar;
    case 3: return ctram_tile_q4_1_scalar;
    case 12: return ctram_tile_q4_K_scalar;
    case 14: return ctram_tile_q6_K_scalar;
    case 6: return ctram_tile_q5_0_scalar;
    case 7: return ctram_tile_q5_1_scalar;
    case 20: return ctram_tile_iq4_nl_scalar;
    case 10: return ctram_tile_q2_K_scalar;
    case 11: return ctram_tile_q3_K_scalar;
    case 13: return ctram_tile_q5_K_scalar;
    case CTRAM_TYPE_Q4_1X16: return ctram_tile_q4_1x16_scalar;
    case CTRAM_TYPE_Q5_0X16: return ctram_tile_q5_0x16_scalar;
    case CTRAM_TYPE_Q8_0X16: return ctram_tile_q8_0x16_scalar;
    }
    return NULL;
}
