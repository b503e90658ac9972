/**
 * The .deb's maintainer scripts (POSIX sh), what debhelper's dh_installsysusers,
 * dh_installtmpfiles and dh_installsystemd would write, minus enabling and starting: the
 * service needs /etc/sqs-accelerator/config.json first, so the admin starts it
 * (`systemctl enable --now sqs-accelerator`). An upgrade restarts it only if it was running,
 * so that it does not keep running old code whose files are gone. Each step is skipped when
 * the tool is missing (a chroot, a container without systemd) and nothing else fails then.
 */
export function maintainerScripts(name: string): Record<'postinst' | 'prerm' | 'postrm', string> {
  const systemdRunning = '[ -d /run/systemd/system ]';
  return {
    postinst: `#!/bin/sh
# ${name} postinst: the system user, its state directory, and systemd told about the unit.
# Never enables or starts the service; an upgrade restarts it if it was running.
set -e
if [ "$1" = configure ]; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers ${name}.conf
	elif ! getent passwd ${name} >/dev/null; then
		useradd --system --user-group --home-dir / --no-create-home --shell /usr/sbin/nologin --comment "${name} daemon" ${name}
	fi
	if command -v systemd-tmpfiles >/dev/null 2>&1; then
		systemd-tmpfiles --create ${name}.conf
	else
		install -d -m 0700 -o ${name} -g ${name} /var/lib/${name}
	fi
	if ${systemdRunning}; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			systemctl try-restart ${name}.service >/dev/null || true
		fi
	fi
fi
exit 0
`,
    prerm: `#!/bin/sh
# ${name} prerm: on removal, stop the service (it flushes what it can and leaves the rest in
# /var/lib/${name}) and disable it, so no dangling link is left in multi-user.target.wants.
set -e
if [ "$1" = remove ] && ${systemdRunning}; then
	systemctl stop ${name}.service >/dev/null 2>&1 || true
	systemctl disable ${name}.service >/dev/null 2>&1 || true
fi
exit 0
`,
    postrm: `#!/bin/sh
# ${name} postrm: systemd forgets the removed unit. The user and /var/lib/${name} stay,
# even on purge: the spool may hold acknowledged messages not yet delivered.
set -e
if ${systemdRunning}; then
	systemctl --system daemon-reload >/dev/null || true
fi
exit 0
`,
  };
}
