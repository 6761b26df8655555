/**
 * The port the generation server listens on inside its container, defined here once: the target group, the tasks'
 * security group, the container's port mapping, PORT and health check, vLLM's --port and the edge-maas image's
 * PORT build arg (infra/docker/generation.Dockerfile) all take it from here.
 */
export const GENERATION_PORT = 8000;
