// Reductions over a warp and over a whole CTA by any associative op (every
// thread gets the result).
#pragma once

namespace vsart::cuda {

template <class T, class Op> __device__ T warpReduce(T v, Op op) {
  for (int o = 16; o > 0; o >>= 1)
    v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// v reduced over a CTA of THREADS threads through `slots` (THREADS / 32
/// values in shared memory); the warps' results are combined in warp order.
template <int THREADS, class T, class Op>
__device__ T blockReduce(T v, T *slots, Op op) {
  v = warpReduce(v, op);
  __syncthreads(); // the slots' last readers are done
  if ((threadIdx.x & 31) == 0)
    slots[threadIdx.x / 32] = v;
  __syncthreads();
  v = slots[0];
  for (int w = 1; w < THREADS / 32; ++w)
    v = op(v, slots[w]);
  return v;
}

} // namespace vsart::cuda
