# A Perl (PSGI) app with scheduled code: the scheduler cannot call Perl
# itself, so the app registers uWSGI RPC subs and the ini schedules them
# with rpc: targets. They run in the worker's own Perl interpreter,
# between requests.
use strict;
use warnings;

my %cache = (refreshed_at => 'never', refreshes => 0);

uwsgi::register_rpc('refresh_cache', sub {
    my ($source) = @_;
    $cache{refreshed_at} = scalar localtime;
    $cache{refreshes}++;
    print STDERR "refresh_cache($source) in worker pid $$: refresh #$cache{refreshes}\n";
    return 'ok';
});

uwsgi::register_rpc('nightly_report', sub {
    my ($who, $limit) = @_;
    print STDERR "nightly_report for $who (top $limit) from worker pid $$\n";
    return 'sent';
});

my $app = sub {
    my $body = "worker $$: cache refreshed $cache{refreshes} times, last at $cache{refreshed_at}\n";
    return [200, ['Content-Type' => 'text/plain'], [$body]];
};
