// The MRG31k3p step and Theano's conversions of its raw samples, written once for the host
// (random_mrg.h expands them as C++) and for CUDA kernels (cuda/provider/random_kernels.cc takes
// their text, TENSORD_MRG_STEP_SOURCE): plain C of 32-bit ints that the host's compiler and NVRTC
// compile alike, so a GPU draws the host's numbers bit for bit.
//
// Theano's C code relies on int32 wrap-around where the sums exceed 2^31 (then a negative value
// triggers the "- M" correction); unsigned arithmetic wraps the same way without undefined
// behaviour. M1 = 2^31 - 1, M2 = 2^31 - 21069; the first component is
// x1[n] = (2^22 x1[n-2] + (2^7 + 1) x1[n-3]) mod M1 by shifts and masks (511 = 2^9 - 1,
// 16777215 = 2^24 - 1), the second x2[n] = (2^15 x2[n-1] + (2^15 + 1) x2[n-3]) mod M2
// (65535 = 2^16 - 1). A raw sample lies in [1, M1]; raw / 2^31 is the float64 uniform, and the
// float32 one multiplies by the largest factor whose product with M1 stays below 1.
#pragma once

#define TENSORD_MRG_STEP(QUALIFIER)                                                             \
  QUALIFIER int tensord_mrg_add(int a, int b) { return (int)((unsigned)a + (unsigned)b); }      \
  QUALIFIER int tensord_mrg_reduce(int y, int m) {                                              \
    return (y < 0 || y >= m) ? tensord_mrg_add(y, -m) : y;                                      \
  }                                                                                             \
  QUALIFIER int tensord_mrg_next(int* s) {                                                      \
    const int m1 = 2147483647, m2 = 2147462579;                                                 \
    const int x11 = s[0], x12 = s[1], x13 = s[2], x21 = s[3], x22 = s[4], x23 = s[5];           \
    int y1 = tensord_mrg_add(tensord_mrg_add((x12 & 511) << 22, x12 >> 9),                      \
                             tensord_mrg_add((x13 & 16777215) << 7, x13 >> 24));                \
    y1 = tensord_mrg_reduce(y1, m1);                                                            \
    y1 = tensord_mrg_reduce(tensord_mrg_add(y1, x13), m1);                                      \
    const int z1 =                                                                              \
        tensord_mrg_reduce(tensord_mrg_add((x21 & 65535) << 15, 21069 * (x21 >> 16)), m2);      \
    int y2 = tensord_mrg_reduce(tensord_mrg_add((x23 & 65535) << 15, 21069 * (x23 >> 16)), m2); \
    y2 = tensord_mrg_reduce(tensord_mrg_add(y2, x23), m2);                                      \
    y2 = tensord_mrg_reduce(tensord_mrg_add(y2, z1), m2);                                       \
    s[0] = y1;                                                                                  \
    s[1] = x11;                                                                                 \
    s[2] = x12;                                                                                 \
    s[3] = y2;                                                                                  \
    s[4] = x21;                                                                                 \
    s[5] = x22;                                                                                 \
    const long long diff = (long long)y1 - y2;                                                  \
    return (int)(diff <= 0 ? diff + m1 : diff);                                                 \
  }                                                                                             \
  QUALIFIER double tensord_mrg_double(int raw) { return raw * 4.656612873077392578125e-10; }    \
  QUALIFIER float tensord_mrg_float(int raw) { return (float)raw * 4.6566126e-10f; }

// The step's text with `qualifier` (CUDA's "__device__ inline") before each function.
#define TENSORD_MRG_STRINGIZE(...) #__VA_ARGS__
#define TENSORD_MRG_EXPAND_TO_STRING(...) TENSORD_MRG_STRINGIZE(__VA_ARGS__)
#define TENSORD_MRG_STEP_SOURCE(qualifier) TENSORD_MRG_EXPAND_TO_STRING(TENSORD_MRG_STEP(qualifier))
