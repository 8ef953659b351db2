/// An error caused by what the user gave bip (a file, a data set, a database, a request), whose
/// description says which and what is wrong. The command line prints it as one line and exits 1.
public protocol InputError: Error, CustomStringConvertible {}
