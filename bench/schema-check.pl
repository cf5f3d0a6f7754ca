#!/usr/bin/perl
# Validates a JSON document against the JSON Schema embedded in a markdown
# file between <!-- schema-begin --> and <!-- schema-end -->.
# Subset: type (string or list), required, properties, additionalProperties
# (false), enum, minimum, items. Core perl only (JSON::PP).
#   schema-check.pl docs/result-schema.md results.json
use strict;
use warnings;
use JSON::PP;
use Scalar::Util qw(looks_like_number);

@ARGV == 2 or die "usage: schema-check.pl SCHEMA.md DOC.json\n";
my ($md, $doc) = @ARGV;

sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!\n"; return <$f>; }

my $text = slurp($md);
$text =~ /<!-- schema-begin -->\s*```json\s*(.*?)```\s*<!-- schema-end -->/s
	or die "$md: no schema between markers\n";
my $schema = JSON::PP->new->decode($1);
my $data = JSON::PP->new->allow_nonref->decode(slurp($doc));
my @errors;

sub type_of {
	my ($v) = @_;
	return 'null' unless defined $v;
	return 'boolean' if JSON::PP::is_bool($v);
	return 'array' if ref $v eq 'ARRAY';
	return 'object' if ref $v eq 'HASH';
	# JSON::PP keeps numbers as numbers: check the flags, not the text.
	my $b = B::svref_2object(\$v);
	if ($b->FLAGS & (B::SVp_IOK() | B::SVp_NOK()) && !($b->FLAGS & B::SVp_POK())) {
		return ($v == int($v) && $v !~ /[.eE]/) ? 'integer' : 'number';
	}
	return 'string';
}

sub type_ok {
	my ($got, $want) = @_;
	return 1 if $got eq $want;
	return 1 if $want eq 'number' && $got eq 'integer';
	return 0;
}

sub check {
	my ($v, $s, $path) = @_;
	my $t = type_of($v);
	if (exists $s->{type}) {
		my @w = ref $s->{type} ? @{$s->{type}} : ($s->{type});
		unless (grep { type_ok($t, $_) } @w) {
			push @errors, "$path: type $t, want " . join('|', @w);
			return;
		}
	}
	if ($s->{enum} && defined $v) {
		push @errors, "$path: '$v' not in enum"
			unless grep { "$_" eq "$v" } @{$s->{enum}};
	}
	if (exists $s->{minimum} && ($t eq 'number' || $t eq 'integer')) {
		push @errors, "$path: $v < $s->{minimum}" if $v < $s->{minimum};
	}
	if ($t eq 'array' && $s->{items}) {
		check($v->[$_], $s->{items}, "$path\[$_\]") for 0 .. $#$v;
	}
	if ($t eq 'object') {
		for my $k (@{$s->{required} || []}) {
			push @errors, "$path: missing '$k'" unless exists $v->{$k};
		}
		my $p = $s->{properties} || {};
		for my $k (sort keys %$v) {
			if ($p->{$k}) {
				check($v->{$k}, $p->{$k}, "$path.$k");
			} elsif (exists $s->{additionalProperties} && !$s->{additionalProperties}) {
				push @errors, "$path: unexpected '$k'";
			}
		}
	}
}

use B;
check($data, $schema, '$');
if (@errors) {
	print STDERR "$doc: $_\n" for @errors[0 .. ($#errors < 19 ? $#errors : 19)];
	exit 1;
}
my $n = ref $data eq 'ARRAY' ? scalar @$data : 1;
print "$doc: valid ($n rows)\n";
exit 0;
