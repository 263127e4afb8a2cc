{{- define "hubid.name" -}}{{ .Release.Name }}-hubid{{- end -}}
{{- define "hubid.labels" -}}
app.kubernetes.io/name: hubid
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "hubid.secret" -}}{{ default (include "hubid.name" .) .Values.existingSecret }}{{- end -}}
{{- define "hubid.image" -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}
{{- define "hubid.config" -}}
{{- $redis := dict "key_prefix" "hubid:" "username" .Values.redis.username "password" (dict "env" "HUBID_REDIS_PASSWORD") -}}
{{- if eq .Values.redis.mode "sentinel" -}}
{{- $_ := set $redis "sentinel" (dict "master_name" .Values.redis.sentinel.masterName "addrs" .Values.redis.sentinel.addrs "username" .Values.redis.sentinel.username "password" (dict "env" "HUBID_REDIS_SENTINEL_PASSWORD")) -}}
{{- else if eq .Values.redis.mode "cluster" -}}
{{- $_ := set $redis "cluster" (dict "addrs" .Values.redis.cluster.addrs) -}}
{{- else if eq .Values.redis.mode "standalone" -}}
{{- $_ := set $redis "addrs" .Values.redis.addrs -}}
{{- else -}}
{{- fail "redis.mode must be standalone, sentinel or cluster" -}}
{{- end -}}
{{- $base := dict "issuer" .Values.issuer "listen" (dict "http" ":8080" "metrics" ":9090") "postgres" (dict "dsn" .Values.postgres.dsn "password" (dict "env" "HUBID_POSTGRES_PASSWORD") "migrate_on_start" (not .Values.migration.enabled)) "redis" $redis "kek" (dict "current" (dict "env" "HUBID_KEK")) "admin" (dict "token" (dict "env" "HUBID_ADMIN_TOKEN")) "smtp" (dict "password" (dict "env" "HUBID_SMTP_PASSWORD")) -}}
{{- toYaml (mustMergeOverwrite $base (deepCopy .Values.config)) -}}
{{- end -}}
{{- define "hubid.env" -}}
{{- range $name, $key := dict "HUBID_KEK" "kek" "HUBID_POSTGRES_PASSWORD" "postgres-password" "HUBID_REDIS_PASSWORD" "redis-password" "HUBID_REDIS_SENTINEL_PASSWORD" "redis-sentinel-password" "HUBID_ADMIN_TOKEN" "admin-token" "HUBID_SMTP_PASSWORD" "smtp-password" }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef: {name: {{ include "hubid.secret" $ }}, key: {{ $key }}}
{{- end }}
{{- end -}}
{{- define "hubid.securityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
{{- end -}}
