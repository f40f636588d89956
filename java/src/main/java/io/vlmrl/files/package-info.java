/**
 * Files that survive crashes and full disks: atomic writes ({@link io.vlmrl.files.AtomicFiles}),
 * LibTorch archives written through Java ({@link io.vlmrl.files.ArchiveFiles}), checksummed
 * directories ({@link io.vlmrl.files.Manifest}) and the write hook the fault tests use
 * ({@link io.vlmrl.files.DiskWrites}). Depends on nothing else in vlmrl.
 */
package io.vlmrl.files;
