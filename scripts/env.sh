# Source this: the environment edgesweep's scripts and tests run MPI with.
# Open MPI refuses root without these; more ranks than cores needs oversubscription;
# OpenBLAS threads would fight the MPI ranks for the cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
export PYTHON=/usr/bin/python3
