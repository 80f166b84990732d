/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * control_stub.c — a stand-in for the control socket client (control.h)
 * until fuse/control.c exists: no daemon is ever found, so pool verbs
 * open the images themselves. Weak, so the real definition wins; drop
 * this file from meson.build when control.c lands.
 */
#include "control.h"

__attribute__((weak)) int zf_control_call(const char *pool, int argc, char **argv)
{
	(void)pool;
	(void)argc;
	(void)argv;
	return -1;
}
