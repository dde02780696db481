"""The app side: what `import socket` yields inside an instance, and the ssl
and http.client adaptations that run over it. Talks only to the service."""
