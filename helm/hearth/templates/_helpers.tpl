{{/* Chart name, overridable. */}}
{{- define "hearth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name for every object. */}}
{{- define "hearth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one process's objects. Takes (dict "root" $ "component" "auth"). */}}
{{- define "hearth.componentName" -}}
{{- printf "%s-%s" (include "hearth.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels. Takes (dict "root" $ "component" "auth"); never change them after release. */}}
{{- define "hearth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hearth.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Common labels. Takes (dict "root" $ "component" "auth"). */}}
{{- define "hearth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hearth.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: hearth
{{- end }}

{{- define "hearth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
An env value as a quoted string. Helm reads numbers in values as float64, which print as
2.097152e+06; whole numbers are printed as integers instead, so HEARTH_BODY_LIMIT_BYTES: 2097152
reaches the process as "2097152".
*/}}
{{- define "hearth.envValue" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) }}
{{- int64 . | quote }}
{{- else }}
{{- . | quote }}
{{- end }}
{{- end }}

{{/*
Non-secret env shared by every process, as a YAML map of strings: the ConfigMap's data, and
the migration Job's env (the Job is a pre-install hook and runs before the ConfigMap exists).
*/}}
{{- define "hearth.commonConfig" -}}
HEARTH_HOST: "0.0.0.0"
HEARTH_PORT: "8080"
HEARTH_DRAIN_DELAY_MS: {{ mul .Values.shutdown.drainDelaySeconds 1000 | quote }}
HEARTH_SHUTDOWN_GRACE_MS: {{ mul .Values.shutdown.shutdownGraceSeconds 1000 | quote }}
{{- with .Values.trustedProxies }}
{{- /* The ingress controller's addresses: its X-Forwarded-For names the real client. */}}
HEARTH_TRUSTED_PROXIES: {{ join "," . | quote }}
{{- end }}
{{- if not (hasKey .Values.config "HEARTH_AUTH_JWKS_URL") }}
{{- /* Every process verifies access tokens against the auth service's keys, in-cluster. */}}
HEARTH_AUTH_JWKS_URL: {{ printf "http://%s:8080/.well-known/jwks.json" (include "hearth.componentName" (dict "root" . "component" "auth")) | quote }}
{{- end }}
{{- if not (hasKey .Values.config "HEARTH_SERVICE_URLS") }}
{{- /* Services call each other's internal RPCs through the in-cluster Services. */}}
{{- $root := . }}
{{- $urls := list }}
{{- range $c := list "auth" "user" "circle" "post" "moderation" "support" }}
{{- $urls = append $urls (printf "%s=http://%s:8080" $c (include "hearth.componentName" (dict "root" $root "component" $c))) }}
{{- end }}
HEARTH_SERVICE_URLS: {{ join "," $urls | quote }}
{{- end }}
{{- range $key, $value := .Values.config }}
{{ $key }}: {{ include "hearth.envValue" $value }}
{{- end }}
{{- end }}

{{/* Longer than drain delay + shutdown grace, so SIGKILL never cuts a drain short. */}}
{{- define "hearth.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.drainDelaySeconds .Values.shutdown.shutdownGraceSeconds .Values.shutdown.terminationMarginSeconds }}
{{- end }}

{{/* Shared pod pieces: the writable /tmp that readOnlyRootFilesystem leaves out. */}}
{{- define "hearth.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
{{- define "hearth.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/*
Refuses values that would deploy something broken: no Secret, a setting the chart owns set
twice, another service's (or a shared) variable in a service's env, or a PDB that no drain
could ever satisfy.
*/}}
{{- define "hearth.validate" -}}
{{- if not .Values.existingSecret }}
{{- fail "existingSecret is required: create a Secret holding DATABASE_URL, HEARTH_AUTH_KEY_ENCRYPTION_KEY, HEARTH_INTERNAL_SECRET, HEARTH_CIRCLE_MESSAGE_KEYS, HEARTH_POST_BODY_KEYS, HEARTH_SUPPORT_PLAN_KEYS (and REDIS_URL, OAuth client secrets) and pass its name; secrets never go in values" }}
{{- end }}
{{- range $key := list "HEARTH_HOST" "HEARTH_PORT" "HEARTH_DRAIN_DELAY_MS" "HEARTH_SHUTDOWN_GRACE_MS" "DATABASE_URL" "REDIS_URL" }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "config.%s is set by the chart (listen address, shutdown.*) or by existingSecret (URLs); remove it from config" $key) }}
{{- end }}
{{- end }}
{{- range $name, $svc := .Values.services }}
{{- $prefix := printf "HEARTH_%s_" (upper $name) }}
{{- range $key, $_ := $svc.env }}
{{- if not (hasPrefix $prefix $key) }}
{{- fail (printf "services.%s.env.%s: a service's env holds only its own %s* variables; shared ones go in config, secrets in existingSecret" $name $key $prefix) }}
{{- end }}
{{- end }}
{{- if and $svc.enabled $svc.pdb.enabled (not (kindIs "string" $svc.pdb.minAvailable)) }}
{{- $least := int (ternary $svc.hpa.minReplicas $svc.replicas $svc.hpa.enabled) }}
{{- if ge (int $svc.pdb.minAvailable) $least }}
{{- fail (printf "services.%s.pdb.minAvailable (%v) must be below its minimum replica count (%d), or node drains wait forever" $name $svc.pdb.minAvailable $least) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
