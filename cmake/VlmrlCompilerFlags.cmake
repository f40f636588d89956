# Compiler flags for the CPU kernels.
# The native library is built from source on the machine that runs it (by Maven),
# so tuning for the host CPU is the default; set VLMRL_CPU_ARCH to a portable
# target (e.g. x86-64-v2) when building a library to ship elsewhere.
set(VLMRL_CPU_ARCH "native" CACHE STRING "Value for -march= when compiling the CPU kernels")

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

# Flags for the CPU kernel sources only (tests and CUDA keep the defaults).
# -fno-trapping-math lets the vectoriser if-convert float selects (no FP traps are used).
set(VLMRL_CPU_FLAGS -O3 -march=${VLMRL_CPU_ARCH} -fno-math-errno -fno-trapping-math -Wall -Wextra)

find_package(OpenMP REQUIRED COMPONENTS CXX)
