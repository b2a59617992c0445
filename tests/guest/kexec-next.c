// SPDX-License-Identifier: GPL-2.0
/*
 * kexec-next: the guest's static helper for chained KHO kexecs.
 *
 *   kexec-next load <kernel> <initrd> <cmdline>   kexec_file_load() only
 *   kexec-next exec                                reboot(RB_KEXEC) only
 *   kexec-next <kernel> <initrd> <cmdline>         both
 *
 * The initrd is always handed over (no KEXEC_FILE_NO_INITRAMFS) so that the
 * next kernel runs /init again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/reboot.h>
#include <sys/syscall.h>

/* A line in the kernel log, so that its timestamp marks a step. */
static void kmsg_mark(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0 || write(fd, msg, strlen(msg)) < 0)
		fprintf(stderr, "kexec-next: /dev/kmsg: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int do_load(const char *kernel, const char *initrd, const char *cmdline)
{
	int kfd, ifd;
	long ret;

	kfd = open(kernel, O_RDONLY);
	if (kfd < 0) {
		fprintf(stderr, "kexec-next: open %s: %s\n", kernel, strerror(errno));
		return 1;
	}
	ifd = open(initrd, O_RDONLY);
	if (ifd < 0) {
		fprintf(stderr, "kexec-next: open %s: %s\n", initrd, strerror(errno));
		return 1;
	}
	kmsg_mark("kexec-next: kexec_file_load\n");
	ret = syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1,
		      cmdline, 0UL);
	kmsg_mark("kexec-next: loaded\n");
	if (ret) {
		fprintf(stderr, "kexec-next: kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	close(kfd);
	close(ifd);
	return 0;
}

static int do_exec(void)
{
	sync();
	/* Its printk timestamp starts the kexec critical path (make bench). */
	kmsg_mark("kexec-next: reboot(RB_KEXEC)\n");
	reboot(RB_KEXEC);
	fprintf(stderr, "kexec-next: reboot(RB_KEXEC): %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "load"))
		return do_load(argv[2], argv[3], argv[4]);
	if (argc == 2 && !strcmp(argv[1], "exec"))
		return do_exec();
	if (argc == 4)
		return do_load(argv[1], argv[2], argv[3]) ?: do_exec();
	fprintf(stderr, "usage: kexec-next [load] <kernel> <initrd> <cmdline> | exec\n");
	return 2;
}
