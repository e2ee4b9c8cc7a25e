{{/* Names and labels. */}}
{{- define "streamscore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamscore.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "streamscore.scorer" -}}{{ include "streamscore.fullname" . }}-scorer{{- end }}
{{- define "streamscore.trainer" -}}{{ include "streamscore.fullname" . }}-trainer{{- end }}

{{- define "streamscore.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Selector labels of a component: call with (list . "scorer"). */}}
{{- define "streamscore.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "streamscore.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "streamscore.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "streamscore.selectorLabels" . }}
app.kubernetes.io/version: {{ $.Values.image.tag | default $.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
app.kubernetes.io/part-of: streamscore
{{- end }}

{{/* The Kafka and registry part of both services' YAML configuration. */}}
{{- define "streamscore.connection" -}}
{{- $k := dict "brokers" .Values.kafka.brokers }}
{{- if .Values.kafka.sasl.mechanism }}
{{- $_ := set $k "sasl" (dict "mechanism" .Values.kafka.sasl.mechanism) }}
{{- end }}
{{- $t := .Values.kafka.tls }}
{{- if or $t.enabled $t.caSecret.name $t.clientCertSecret.name }}
{{- $tls := dict "enabled" true }}
{{- if $t.serverName }}{{ $_ := set $tls "server_name" $t.serverName }}{{ end }}
{{- if $t.caSecret.name }}{{ $_ := set $tls "ca_file" "/etc/streamscore/kafka-ca/ca.crt" }}{{ end }}
{{- if $t.clientCertSecret.name }}
{{- $_ := set $tls "cert_file" "/etc/streamscore/kafka-client/tls.crt" }}
{{- $_ := set $tls "key_file" "/etc/streamscore/kafka-client/tls.key" }}
{{- end }}
{{- $_ := set $k "tls" $tls }}
{{- end }}
{{- $r := dict "url" .Values.registry.url }}
{{- if .Values.registry.username }}{{ $_ := set $r "username" .Values.registry.username }}{{ end }}
{{- if .Values.registry.timeout }}{{ $_ := set $r "timeout" .Values.registry.timeout }}{{ end }}
{{- toYaml (dict "kafka" $k "registry" $r) }}
{{- end }}

{{/*
Secrets as environment variables, by reference only: call with
(list . "STREAMSCORE_"). The SASL username is an environment variable too,
so that KEDA's TriggerAuthentication can read it from the scorer container.
*/}}
{{- define "streamscore.secretEnv" -}}
{{- $ := index . 0 }}{{ $p := index . 1 }}
{{- if $.Values.kafka.sasl.mechanism }}
- name: {{ $p }}SASL_USERNAME
  value: {{ $.Values.kafka.sasl.username | quote }}
- name: {{ $p }}SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.kafka.sasl.passwordSecret.name }}
      key: {{ $.Values.kafka.sasl.passwordSecret.key }}
{{- end }}
{{- if $.Values.registry.passwordSecret.name }}
- name: {{ $p }}REGISTRY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.registry.passwordSecret.name }}
      key: {{ $.Values.registry.passwordSecret.key }}
{{- end }}
{{- end }}

{{/* Volumes: the configuration, /tmp, the Kafka TLS Secrets. Call with (list . "scorer"). */}}
{{- define "streamscore.volumes" -}}
{{- $ := index . 0 }}{{ $c := index . 1 }}
- name: config
  configMap:
    name: {{ include "streamscore.fullname" $ }}-{{ $c }}
- name: tmp
  emptyDir: {}
{{- with $.Values.kafka.tls.caSecret }}{{ if .name }}
- name: kafka-ca
  secret:
    secretName: {{ .name }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: ca.crt
{{- end }}{{ end }}
{{- with $.Values.kafka.tls.clientCertSecret }}{{ if .name }}
- name: kafka-client
  secret:
    secretName: {{ .name }}
    defaultMode: 0440
    items:
      - key: {{ .certKey }}
        path: tls.crt
      - key: {{ .keyKey }}
        path: tls.key
{{- end }}{{ end }}
{{- end }}

{{- define "streamscore.volumeMounts" -}}
- name: config
  mountPath: /etc/streamscore/config
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/streamscore/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret.name }}
- name: kafka-client
  mountPath: /etc/streamscore/kafka-client
  readOnly: true
{{- end }}
{{- end }}

{{/* The scorer's workload kind: a StatefulSet for exactly-once (stable transactional ids). */}}
{{- define "streamscore.scorerKind" -}}
{{- ternary "StatefulSet" "Deployment" .Values.scorer.exactlyOnce }}
{{- end }}

{{/* Checks the schema cannot express; each fails the render with the field's name. */}}
{{- define "streamscore.validate" -}}
{{- $s := .Values.scorer }}
{{- if $s.enabled }}
{{- if gt (int $s.replicas) (int $s.partitions) }}
{{- fail (printf "scorer.replicas (%d) must not exceed scorer.partitions (%d): a scorer without a partition never becomes ready" (int $s.replicas) (int $s.partitions)) }}
{{- end }}
{{- if and $s.hpa.enabled $s.keda.enabled }}
{{- fail "scorer.hpa.enabled and scorer.keda.enabled: choose one autoscaler (KEDA makes its own HPA)" }}
{{- end }}
{{- if and $s.hpa.enabled (gt (int $s.hpa.maxReplicas) (int $s.partitions)) }}
{{- fail (printf "scorer.hpa.maxReplicas (%d) must not exceed scorer.partitions (%d)" (int $s.hpa.maxReplicas) (int $s.partitions)) }}
{{- end }}
{{- if and $s.hpa.enabled (gt (int $s.hpa.minReplicas) (int $s.hpa.maxReplicas)) }}
{{- fail (printf "scorer.hpa.minReplicas (%d) must not exceed scorer.hpa.maxReplicas (%d)" (int $s.hpa.minReplicas) (int $s.hpa.maxReplicas)) }}
{{- end }}
{{- if and $s.hpa.enabled (not (and $s.resources $s.resources.requests $s.resources.requests.cpu)) }}
{{- fail "scorer.resources.requests.cpu is required with scorer.hpa.enabled: CPU utilisation is measured against it" }}
{{- end }}
{{- if and $s.keda.enabled (gt (int $s.keda.maxReplicas) (int $s.partitions)) }}
{{- fail (printf "scorer.keda.maxReplicas (%d) must not exceed scorer.partitions (%d)" (int $s.keda.maxReplicas) (int $s.partitions)) }}
{{- end }}
{{- if and $s.keda.enabled (gt (int $s.keda.minReplicas) (int $s.keda.maxReplicas)) }}
{{- fail (printf "scorer.keda.minReplicas (%d) must not exceed scorer.keda.maxReplicas (%d)" (int $s.keda.minReplicas) (int $s.keda.maxReplicas)) }}
{{- end }}
{{- if and $s.shadowAlias (eq $s.shadowAlias $s.modelAlias) }}
{{- fail (printf "scorer.shadowAlias %q is also scorer.modelAlias: a model cannot shadow itself" $s.shadowAlias) }}
{{- end }}
{{- if and $s.shadowTopic (not $s.shadowAlias) }}
{{- fail "scorer.shadowTopic needs scorer.shadowAlias" }}
{{- end }}
{{- if and $s.exactlyOnce (not $s.staticMembership) }}
{{- fail "scorer.staticMembership: false applies at least once only: exactly-once scorers are always static members, named by their transactional id" }}
{{- end }}
{{- end }}
{{- if hasKey .Values.monitoring.rules.alertLabels "severity" }}
{{- fail "monitoring.rules.alertLabels.severity: each alert's severity is monitoring.rules.severity's" }}
{{- end }}
{{- end }}
