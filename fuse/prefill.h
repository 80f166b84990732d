/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * prefill.h — the rest of a record into the kernel's page cache after a
 * small read (FUSE_NOTIFY_STORE), one thread per session.
 *
 * ZFS reads, verifies and decompresses whole records; the kernel asks a
 * FUSE server for pages one read at a time, and a random 4 KiB read of a
 * 128 KiB record would leave 31 more round trips to come for data the
 * daemon already holds. After such a read the session's prefill thread
 * hands the kernel the whole record, so each record costs one round trip.
 *
 * A store writes over whatever the page cache holds, dirty pages
 * included, and may raise the kernel's idea of the file's size. So:
 * - no store is made for an object a handle has open for writing (the
 *   only way to dirty its pages) or whose size is being set, and an open
 *   for writing or a size change (a truncate by path comes without a
 *   handle) waits for the object's stores in flight — parked, not
 *   blocking its worker thread: a store can wait on pages locked for
 *   reads that need a free worker;
 * - a change no handle makes (a rollback) calls zf_prefill_changed() once
 *   it is done, and a store that overlapped one takes back what it stored
 *   (the pages were stale for that moment, as any page cache is between
 *   a rollback and its invalidation);
 * - at most half of the session's worker threads store at once, the rest
 *   being free to answer the reads a store may wait for; further records
 *   go to the session's own thread.
 */
#ifndef ZFUSE_FUSE_PREFILL_H
#define ZFUSE_FUSE_PREFILL_H

#include <stdbool.h>
#include <stdint.h>

struct fuse_session;
struct zf_fs;
struct zf_prefill;

/* Start a session's prefill thread; max_threads is the session's limit of
 * worker threads (0: libfuse's default). NULL when out of memory or
 * threads (reads then work without it). */
struct zf_prefill *zf_prefill_new(struct fuse_session *se, unsigned max_threads);
/* Stop the thread. Only once the session's loop has ended: opens parked
 * then are dropped unanswered, with the connection. */
void zf_prefill_free(struct zf_prefill *pf);

/* A read of len bytes at off of object obj of fs (kernel node ino) was
 * answered: store its record now, or queue it when enough workers are
 * storing already (dropped when the queue is full). Never blocks on
 * another store. */
void zf_prefill_after_read(struct zf_prefill *pf, uint64_t ino, struct zf_fs *fs, uint64_t obj,
			   uint64_t off, uint64_t len);

/*
 * An open for writing of obj, or a change of its size: counted as a writer
 * at once and true when no store of obj is in flight; otherwise false, and
 * resume(arg) is called (on the thread ending the last store, writer
 * counted) once the stores are done. arg is malloc'd; when the session
 * ends first it is freed without resume.
 */
bool zf_prefill_writer_open(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj,
			    void (*resume)(void *arg), void *arg);
/* As above, waiting in the caller's thread: for an object just created,
 * which a store can only be in flight for if its number was reused. */
void zf_prefill_writer_open_wait(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj);
/* A writing handle of obj was released, or its size change answered. */
void zf_prefill_writer_close(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj);
/* Contents or sizes changed other than through a writer (a rollback). */
void zf_prefill_changed(struct zf_prefill *pf);

#endif
