# The plain WSGI "Hello, World!" app the scheduler runs beside.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello, World!\n']
