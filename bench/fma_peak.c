/* Measures the machine's fp32 FMA peak per thread: 12 independent vector
 * accumulators (enough to cover FMA latency x throughput), widest native vectors.
 * Built and run by bench/run.py: clang -O3 -march=native fma_peak.c -lpthread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vf __attribute__((vector_size(LANES * 4)));

static const long kIters = 1000000000L / LANES;

static void* run(void* out) {
  vf a[12], x = {0}, y = {0};
  for (int i = 0; i < LANES; ++i) x[i] = 1.0f + 1e-7f * i, y[i] = 0.999999f;
  for (int j = 0; j < 12; ++j) a[j] = x * (float)j;
  for (long i = 0; i < kIters; ++i) {
    for (int j = 0; j < 12; ++j) a[j] = a[j] * y + x;
    __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]));
    __asm__ volatile("" : "+v"(a[6]), "+v"(a[7]), "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]));
  }
  float s = 0;
  for (int j = 0; j < 12; ++j) s += a[j][0];
  *(float*)out = s;
  return NULL;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  pthread_t t[64];
  float sink[64];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < threads; ++i) pthread_create(&t[i], NULL, run, &sink[i]);
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  double flops = 2.0 * 12 * LANES * (double)kIters * threads;
  printf("%.2f %d %g\n", flops / s * 1e-9, LANES, sink[0]);
  return 0;
}
