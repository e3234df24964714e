# Starlet's side of the full-stack workload: what a Plack user writes for the same job.
# AccessLog::Timed (combined, to an appended file: Debian has no File::RotateLogs, and a
# daily rotation does not happen within a run) > ReverseProxy for loopback peers (Plack's
# middleware trusts every peer, so its docs say to wrap it in enable_if) > Static for
# /static/ > hello. FULL_STACK_STATE and FULL_STACK_ROOT as for the Plank stack.
use strict;
use warnings;
use Plack::Builder;

my $state = $ENV{FULL_STACK_STATE} or die "FULL_STACK_STATE must be set";
my $root = $ENV{FULL_STACK_ROOT} or die "FULL_STACK_ROOT must be set";
mkdir "$state/logs";
open my $log, '>>', "$state/logs/access.log" or die "access.log: $!";
# Perl's default buffering (a write per 8 KiB), what a Plack user gets from a plain open:
# the cheaper choice for the peer, though lines still in a worker's buffer are lost when
# the worker is killed.

builder {
    enable 'AccessLog::Timed', format => 'combined', logger => sub { print {$log} @_ };
    enable_if { $_[0]->{REMOTE_ADDR} =~ /\A(?:127\.|::1\z)/ } 'ReverseProxy';
    enable 'Static', path => qr{^/static/}, root => $root;
    sub { [200, ['Content-Type' => 'text/plain', 'Content-Length' => 13], ['Hello, World!']] };
};
