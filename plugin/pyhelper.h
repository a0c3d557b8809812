/* pyhelper.h - the Python source of the scheduler's helper module
 * (pyhelper.c), compiled by python.c into each interpreter. */
#ifndef SCHED_PYHELPER_H
#define SCHED_PYHELPER_H

extern const char sched_pyhelper_source[];

#endif
