"""The health check load balancers and monitoring ask: is this worker able to serve?"""
