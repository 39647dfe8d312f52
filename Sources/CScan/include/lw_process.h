#ifndef LW_PROCESS_H
#define LW_PROCESS_H

/* Process plumbing (process.c): graceful stops, thread names, returning memory. */

/* Makes SIGINT and SIGTERM set a flag instead of ending the process (a second one still ends
   it); lw_stop_signal() is the first such signal's number, or 0. */
void lw_install_stop_handlers(void);
int lw_stop_signal(void);
/* Asks for the same graceful stop from the program itself (the live view's `q`); `reason` is
   what lw_stop_signal() then returns, unless a signal came first. */
void lw_request_stop(int reason);

/* Returns the heap's free pages to the system (malloc_trim). */
void lw_release_free_memory(void);

/* Names the calling thread (shown by top -H and perf). */
void lw_name_thread(const char *name);

#endif
