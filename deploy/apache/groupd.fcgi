#!/bin/sh
# mod_fcgid starts this with the FastCGI socket on fd 0; groupd serves it as
# one process (mod_fcgid decides how many to run).  Settings: groupd.conf.
exec /usr/local/bin/groupd --config /etc/groupd/groupd.conf
