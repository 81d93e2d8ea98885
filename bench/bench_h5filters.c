/* Writing a point with and without compression under parallel HDF5 (bench/README.md, Output
 * size): the choice behind the uncompressed layout. A benchmark of HDF5 itself, not part of
 * the engine, so it includes hdf5.h (tests/style/test_layers.sh names it).
 *
 * Usage: mpirun -n R bench_h5filters IN.h5 NW OUTDIR [LEVEL]
 * IN.h5 is an edgesweep output (e.g. of bench/wscan.ini); its first NW sigma_w2 rows give the
 * points, with their real values: the 14 /ensemble fields, /ensemble/networks and /run/state
 * of each point, the columns rank 0 writes when a point completes. Three ways to write them:
 *   contiguous  datasets allocated at creation, rank 0 writes each column independently (the
 *               run's way, without its slab read-back);
 *   filtered    chunks of one point's column, byte shuffle + deflate LEVEL (default 4), every
 *               rank in every point's H5Dwrite (collective; ranks other than 0 select nothing);
 *   independent the same filtered datasets, rank 0 alone: refused or not.
 * Prints per way the time per point (the slowest rank, flush included) and the file's bytes
 * per point x depth. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NF 16 /* 14 fields, networks, state */

static const char *const names[NF] = {"ensemble/q_mean",      "ensemble/q_var",
                                      "ensemble/qab_mean",    "ensemble/qab_var",
                                      "ensemble/c_mean",      "ensemble/c_var",
                                      "ensemble/logjac_mean", "ensemble/logjac_var",
                                      "ensemble/logq_mean",   "ensemble/logq_var",
                                      "ensemble/kurtosis",    "ensemble/kurtosis_stderr",
                                      "ensemble/lyapunov",    "ensemble/lyapunov_stderr",
                                      "ensemble/networks",    "run/state"};

static void die(const char *what) {
  fprintf(stderr, "bench_h5filters: %s\n", what);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

/* The datasets' dims from IN (rank NF - 1 has the statistic axis), NW rows of sigma_w2. */
static int dims_of(hid_t in, int i, hsize_t nw, hsize_t *dims) {
  hid_t d = H5Dopen2(in, names[i], H5P_DEFAULT), sp = H5Dget_space(d);
  int r = H5Sget_simple_extent_ndims(sp);
  H5Sget_simple_extent_dims(sp, dims, NULL);
  if (dims[0] < nw) die("NW is larger than the file's sigma_w2 axis");
  dims[0] = nw;
  H5Sclose(sp);
  H5Dclose(d);
  return r;
}

/* Write every point's columns into a new file at PATH; returns seconds per point (max over
 * ranks), or -1 when a write was refused. */
static double run(const char *path, int way, int level, int nd_rank[NF], hsize_t dims[NF][5],
                  double *const data[NF], int rank) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) die("cannot create the output");
  hid_t ds[NF];
  for (int i = 0; i < NF; i++) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (way == 0) H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY); /* as the run */
    if (way > 0) {
      hsize_t chunk[5];
      memcpy(chunk, dims[i], sizeof chunk);
      chunk[0] = chunk[1] = chunk[3] = 1; /* one point's depth column (x statistic) */
      H5Pset_chunk(dcpl, nd_rank[i], chunk);
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, (unsigned)level);
    }
    char g[64];
    snprintf(g, sizeof g, "%.*s", (int)(strchr(names[i], '/') - names[i]), names[i]);
    if (H5Lexists(f, g, H5P_DEFAULT) <= 0)
      H5Gclose(H5Gcreate2(f, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    hid_t sp = H5Screate_simple(nd_rank[i], dims[i], NULL);
    ds[i] = H5Dcreate2(f, names[i], i == NF - 2 ? H5T_STD_I64LE : H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                       dcpl, H5P_DEFAULT);
    H5Sclose(sp);
    H5Pclose(dcpl);
  }
  hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(xfer, way == 1 ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
  const hsize_t nw = dims[0][0], nb = dims[0][1], nd = dims[0][2], nn = dims[0][3];
  const hsize_t npoints = nw * nb * nn;
  int refused = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (hsize_t p = 0; p < npoints && !refused; p++) {
    const hsize_t iw = p / (nb * nn), ib = (p / nn) % nb, in = p % nn;
    for (int i = 0; i < NF && !refused; i++) {
      const hsize_t tail = nd_rank[i] == 5 ? dims[i][4] : 1;
      hsize_t start[5] = {iw, ib, 0, in, 0}, count[5] = {1, 1, nd, 1, tail}, n = nd * tail;
      hid_t fs = H5Dget_space(ds[i]), ms = H5Screate_simple(1, &n, NULL);
      const int mine = rank == 0;
      if (mine)
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
      else
        H5Sselect_none(fs), H5Sselect_none(ms);
      /* The column of point p: the input is read point-major below. */
      const double *col = data[i] + p * n;
      herr_t e = 0;
      if (way == 1 || mine)
        e = H5Dwrite(ds[i], i == NF - 2 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, ms, fs, xfer, col);
      if (e < 0) refused = 1;
      H5Sclose(ms);
      H5Sclose(fs);
    }
  }
  int any; /* the flush is collective: every rank skips it when rank 0 was refused */
  MPI_Allreduce(&refused, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (!any) H5Fflush(f, H5F_SCOPE_GLOBAL);
  double t = (MPI_Wtime() - t0) / (double)npoints, tmax;
  MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  for (int i = 0; i < NF; i++) H5Dclose(ds[i]);
  H5Pclose(xfer);
  H5Fclose(f);
  return any ? -1.0 : tmax;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 4) die("usage: bench_h5filters IN.h5 NW OUTDIR [LEVEL]");
  const hsize_t nw = (hsize_t)atoll(argv[2]);
  const int level = argc > 4 ? atoi(argv[4]) : 4;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t in = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (in < 0) die("cannot open IN.h5");
  int nd_rank[NF];
  hsize_t dims[NF][5];
  double *data[NF];
  for (int i = 0; i < NF; i++) {
    nd_rank[i] = dims_of(in, i, nw, dims[i]);
    const hsize_t tail = nd_rank[i] == 5 ? dims[i][4] : 1;
    const hsize_t nb = dims[i][1], nd = dims[i][2], nn = dims[i][3], npt = nw * nb * nn;
    double *all = malloc(npt * nd * tail * sizeof *all);
    data[i] = malloc(npt * nd * tail * sizeof *all);
    if (!all || !data[i]) die("out of memory");
    /* Read the first NW rows (file order), then reorder point-major: column p is contiguous. */
    hid_t d = H5Dopen2(in, names[i], H5P_DEFAULT), fs = H5Dget_space(d);
    hsize_t start[5] = {0, 0, 0, 0, 0};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims[i], NULL);
    hsize_t n = npt * nd * tail;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    if (H5Dread(d, i == NF - 2 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, all) <
        0)
      die("cannot read IN.h5");
    for (hsize_t w = 0; w < nw; w++)
      for (hsize_t b = 0; b < nb; b++)
        for (hsize_t k = 0; k < nd; k++)
          for (hsize_t x = 0; x < nn; x++)
            memcpy(data[i] + (((w * nb + b) * nn + x) * nd + k) * tail,
                   all + (((w * nb + b) * nd + k) * nn + x) * tail, tail * sizeof *all);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    free(all);
  }
  H5Fclose(in);
  const double pd = (double)(nw * dims[0][1] * dims[0][3] * dims[0][2]);
  static const char *const way_names[3] = {"contiguous", "filtered", "independent"};
  if (rank == 0)
    printf("%d ranks, %llu points x %llu depths, deflate %d\n", size,
           (unsigned long long)(nw * dims[0][1] * dims[0][3]), (unsigned long long)dims[0][2],
           level);
  fflush(stdout);
  for (int way = 0; way < 3; way++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_h5filters_%d.h5", argv[3], way);
    double t = run(path, way, level, nd_rank, dims, data, rank);
    struct stat sb;
    if (rank == 0 && stat(path, &sb) == 0) {
      if (t < 0)
        printf("%-12s refused by HDF5 %s\n", way_names[way], H5_VERS_INFO);
      else
        printf("%-12s %.3f ms per point, %.1f bytes per point x depth (%lld bytes)\n",
               way_names[way], 1e3 * t, (double)sb.st_size / pd, (long long)sb.st_size);
      fflush(stdout);
    }
    if (rank == 0) unlink(path);
  }
  for (int i = 0; i < NF; i++) free(data[i]);
  MPI_Finalize();
  return 0;
}
