complete -c slaacd -s f -d 'The configuration file (slaacd.conf(5)); /etc/slaacd.conf by default, which may be missing' -r -F
complete -c slaacd -s o -d 'Set an option of slaacd.conf(5), for one interface with the "interface:" prefix (e.g. eth0:identifier=eui64, eth0:metric=512, max-routers=4); repeat for more. Beats the file' -r
complete -c slaacd -s s -d 'The control socket slaacctl talks to (default /run/slaacd/slaacd.sock)' -r
complete -c slaacd -s g -d 'The control socket\'s group (name or number); root\'s by default' -r
complete -c slaacd -s K -d 'The file holding the secret key for stable addresses (RFC 7217); created with a random key if it does not exist (default /var/lib/slaacd/soii.key)' -r
complete -c slaacd -s r -d 'Where DNS servers and search domains go: auto (the default), or a backend as slaacd(8) lists them, e.g. file[=PATH]' -r
complete -c slaacd -s u -d 'The unprivileged user the frontend and the engine run as (default _slaacd)' -r
complete -c slaacd -l completions -d 'Print the completion script for a shell and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c slaacd -s d -d 'Stay in the foreground and log to stderr'
complete -c slaacd -s n -d 'Check the configuration (file and command line) and exit: 0 when it is valid, 1 with the problem on stderr; with -v, print it'
complete -c slaacd -s v -d 'More detail in the log; repeat for more'
complete -c slaacd -s T -d 'No temporary addresses (RFC 8981) on any interface: by default the kernel makes them from the stable addresses and prefers them for outgoing connections'
complete -c slaacd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c slaacd -s V -l version -d 'Print version'
