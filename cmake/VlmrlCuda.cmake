# Optional CUDA: the CUDA kernels are compiled wherever nvcc exists (a compile
# error then fails the build); without nvcc the build is CPU-only and says so once.
# The CUDA runtime is linked statically so the library loads, and runs its CPU
# ops, on machines with no GPU and no CUDA runtime installed.
option(VLMRL_CUDA "Build the CUDA kernels when nvcc is found" ON)
set(VLMRL_WITH_CUDA OFF)
if(VLMRL_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # sm_80 (A100) and sm_90 (H100/H200) machine code, plus sm_90 PTX for newer GPUs.
      set(CMAKE_CUDA_ARCHITECTURES 80-real 90-real 90-virtual)
    endif()
    set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(VLMRL_WITH_CUDA ON)
    message(STATUS "vlmrl: building CUDA kernels with ${CMAKE_CUDA_COMPILER} for ${CMAKE_CUDA_ARCHITECTURES}")
  endif()
endif()
if(NOT VLMRL_WITH_CUDA)
  message(WARNING "vlmrl: nvcc not found (or VLMRL_CUDA=OFF): building the CPU kernels only")
endif()
