/* Per-point HDF5 writes of a scan's layout under the parallel HDF5 in use: what edgesweep
 * does (rank 0 alone, independent writes to contiguous datasets) against chunked datasets
 * with shuffle + deflate, which parallel HDF5 writes only collectively (every rank calls
 * H5Dwrite for every point, the others with an empty selection). Also tries an independent
 * write to a filtered dataset, to record whether this HDF5 allows it.
 *
 *   mpirun -n 2 build/bench/bench_h5write [NW NB ND NN DATASETS]   (default: W-scan's
 *   40 20 200 2, 16 datasets of doubles)
 *
 * Values: pseudo-random doubles near 1 with full mantissas (like measured statistics: the
 * least compressible part of an output). Prints seconds per point (rank 0's wall time) and
 * bytes per point x depth of the file. Collective. */
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double es__val(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return 1.0 + (double)(*s >> 11) * 0x1.0p-53;
}

/* MODE 0: contiguous, independent writes by rank 0. 1: chunked (one point's depth column),
 * shuffle + deflate 1, collective writes by all ranks. Returns seconds per point or -1. */
static double es__run(const char *path, int mode, const hsize_t dims[4], int nds, int rank) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) return -1;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  if (mode == 1) {
    hsize_t chunk[4] = {1, 1, dims[2], 1};
    H5Pset_chunk(dcpl, 4, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 1);
  }
  hid_t sp = H5Screate_simple(4, dims, NULL);
  hid_t *ds = malloc((size_t)nds * sizeof *ds);
  for (int i = 0; i < nds; i++) {
    char name[32];
    snprintf(name, sizeof name, "d%02d", i);
    ds[i] = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  }
  hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(xfer, mode == 1 ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
  const hsize_t nd = dims[2], npts = dims[0] * dims[1] * dims[3];
  double *col = malloc(nd * sizeof *col);
  uint64_t seed = 1;
  hsize_t cnt[4] = {1, 1, nd, 1};
  hid_t msp = H5Screate_simple(1, &nd, NULL);
  int ok = 1;
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  for (hsize_t p = 0; p < npts && ok; p++) {
    hsize_t in = p % dims[3], iw = (p / dims[3]) % dims[0], ib = p / (dims[3] * dims[0]);
    hsize_t st[4] = {iw, ib, 0, in};
    for (int i = 0; i < nds && ok; i++) {
      if (rank != 0 && mode == 0) break;
      for (hsize_t k = 0; k < nd; k++) col[k] = es__val(&seed);
      hid_t fsp = H5Dget_space(ds[i]);
      H5Sselect_hyperslab(fsp, H5S_SELECT_SET, st, NULL, cnt, NULL);
      hid_t m = msp;
      if (rank != 0) { /* collective: the other ranks take part with nothing */
        H5Sselect_none(fsp);
        m = H5Scopy(msp);
        H5Sselect_none(m);
      }
      ok = H5Dwrite(ds[i], H5T_NATIVE_DOUBLE, m, fsp, xfer, col) >= 0;
      if (m != msp) H5Sclose(m);
      H5Sclose(fsp);
    }
  }
  double t = MPI_Wtime() - t0;
  for (int i = 0; i < nds; i++) H5Dclose(ds[i]);
  free(ds);
  free(col);
  H5Sclose(msp);
  H5Sclose(sp);
  H5Pclose(dcpl);
  H5Pclose(xfer);
  H5Fclose(f);
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return ok ? t / (double)npts : -1;
}

/* An independent write from rank 0 alone into a filtered dataset: 1 if this HDF5 takes it. */
static int es__independent_filtered(const char *path, int rank) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  hsize_t dims[1] = {64}, chunk[1] = {16};
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, chunk);
  H5Pset_deflate(dcpl, 1);
  hid_t sp = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "x", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  int ok = 1;
  if (rank == 0) {
    double v[64] = {0};
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    ok = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
  }
  H5Dclose(d);
  H5Sclose(sp);
  H5Pclose(dcpl);
  H5Fclose(f);
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return ok;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  hsize_t dims[4] = {40, 20, 200, 2};
  int nds = 16;
  for (int i = 0; i < 4 && i + 1 < argc; i++) dims[i] = (hsize_t)atoll(argv[i + 1]);
  if (argc > 5) nds = atoi(argv[5]);
  char path[256];
  int pid = (int)getpid(); /* rank 0's: one file for all */
  MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
  snprintf(path, sizeof path, "/tmp/bench_h5write.%d.h5", pid);
  const char *names[2] = {"rank 0, independent, contiguous",
                          "all ranks, collective, chunked + shuffle + deflate 1"};
  for (int mode = 0; mode < 2; mode++) {
    double t = es__run(path, mode, dims, nds, rank);
    struct stat stt;
    double bytes = stat(path, &stt) == 0 ? (double)stt.st_size : -1;
    if (rank == 0)
      printf("%-55s %d ranks: %8.3f ms per point (%d datasets x %llu depths), %.1f bytes per "
             "point x depth x dataset\n",
             names[mode], size, 1e3 * t, nds, (unsigned long long)dims[2],
             bytes / ((double)(dims[0] * dims[1] * dims[3] * dims[2]) * nds));
  }
  int ind = es__independent_filtered(path, rank);
  if (rank == 0) {
    printf("independent write to a filtered dataset: %s (HDF5 %d.%d.%d)\n",
           ind ? "accepted" : "refused", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
    remove(path);
  }
  MPI_Finalize();
  return 0;
}
