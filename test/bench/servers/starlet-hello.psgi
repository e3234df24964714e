# The Perl peer: plackup -s Starlet --max-workers=2 --max-keepalive-reqs=1000 starlet-hello.psgi
my $app = sub { [200, ['Content-Type' => 'text/plain', 'Content-Length' => 13], ['Hello, World!']] };
