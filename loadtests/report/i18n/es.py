"""Catálogo en español (el idioma del curso; la opción por defecto). Mismas claves y mismos
``{marcadores}`` que ``en.py``: un test lo comprueba."""

MESSAGES: dict[str, str] = {
    # marco de la página
    "page.title": "Cuánto cuesta cada protocolo de API sirviendo un mismo modelo",
    "page.subtitle": "Corrida {runs} · inicio {started} · {cells} celdas medidas · protocolos: "
    "{protocols}",
    "nav.label": "Contenido",
    "section.results": "Resultados",
    "section.charts": "Gráficos y qué dicen",
    "section.notes": "Notas para la clase",
    "section.glossary": "Glosario",
    "section.manifest": "Manifiesto de reproducibilidad",
    "section.caveats": "Antes de leer los números",
    "reading.label": "Lectura:",
    "notes.in_this_run": "En esta corrida:",
    "footer": "Generado por protobench report. Todo lo que muestra esta página, gráficos "
    "incluidos, está en este único archivo: se abre sin red.",
    "caveat.cores": "Esta corrida se hizo en una máquina con {cores} núcleos de CPU, "
    "compartidos por los servidores, el balanceador y el generador de carga (y quizás otros "
    "trabajos). Comparen los protocolos entre sí; no lean los valores absolutos como la "
    "capacidad de un servidor.",
    "caveat.short": "La ventana medida más corta fue de {seconds} s: alcanza para comparar, es "
    "poca para un p99,9 estable.",
    "caveat.generator_heavy": "Para {protocols} el generador de carga gastó más de la mitad de la "
    "CPU por solicitud que gastó el servidor (CPU generador ÷ servidor por encima de 0,5): el "
    "cliente Python de ese protocolo cuesta casi tanto como su servidor, así que en una máquina "
    "con pocos núcleos su rendimiento es en parte el límite del cliente. La verificación nativa, "
    "si está, muestra el del servidor.",
    "caveat.generator": "En {n} de {total} configuraciones el cuello de botella fue el propio "
    "generador de carga (marca: generador saturado); su rendimiento es un piso, no el límite "
    "del servidor.",
    # tabla principal
    "results.intro": "Una fila por configuración; si una configuración se repitió, los números "
    "son la mediana de las repeticiones y req/s lleva su intervalo de confianza del 95 %. Las "
    "latencias se miden desde que se envió cada solicitud, en milisegundos. Los bytes son por "
    "llamada, en la red (encabezados, tramas y cuerpo). Cada marca aparece junto al número que "
    "califica.",
    "col.protocol": "Protocolo",
    "col.replicas": "Réplicas",
    "col.load": "Carga",
    "col.batch": "Lote",
    "col.rps": "req/s",
    "col.p999": "p99,9 ms",
    "col.errors": "Errores",
    "col.request_bytes": "B/solicitud",
    "col.response_bytes": "B/respuesta",
    "col.server_us": "CPU servidor µs/req",
    "section.crosscheck": "Locust y un generador nativo, lado a lado",
    "crosscheck.intro": "Las mismas configuraciones con wrk (protocolos HTTP/1.1) y h2load "
    "(gRPC), programas en C que cuestan a la máquina una pequeña fracción de lo que cuestan los "
    "usuarios en Python y envían los mismos bytes. Solo aparecen donde Locust no saturó su "
    "generador: ahí ambos deberían coincidir, y una diferencia grande indica que uno de ellos se "
    "midió a sí mismo. Las herramientas nativas no leen las respuestas, así que un error dentro "
    "de un 200 no lo ven.",
    "col.locust_rps": "req/s Locust",
    "col.native_rps": "req/s nativo",
    "col.difference": "Nativo vs Locust",
    "col.capacity": "Capacidad req/s por núcleo",
    "col.generator_ratio": "CPU generador ÷ servidor",
    "col.generator_share": "CPU generador",
    "results.capacity": "La capacidad por núcleo es 1 ÷ los segundos de CPU del servidor por "
    "solicitud: las solicitudes por segundo que un núcleo del servidor podría atender si no "
    "hiciera otra cosa. No depende de cuánto empujó el generador de carga, así que puede superar "
    "las req/s medidas: la diferencia es tiempo en que el servidor esperó (la siguiente "
    "solicitud, el retardo del modelo, la red) en vez de calcular. CPU generador ÷ servidor "
    "compara el instrumento con lo que mide; muy por debajo de 1 (la meta es 0,5 o menos) los "
    "números describen al servidor, cerca de 1 o más describen al generador de carga.",
    "col.flags": "Marcas",
    "table.ci": "IC 95 % {low}–{high} (n={n})",
    "load.closed": "{users} usuarios",
    "load.open": "{rate} req/s ofrecidas",
    "caveat.slo": "Evaluado contra el SLO {spec}: {failed} de {total} celdas no lo cumplieron "
    "(marca: SLO incumplido); `protobench bench --slo` termina con error si alguna falla.",
    "flag.slo-pass": "SLO cumplido",
    "flag.slo-pass.explain": "todos los objetivos de --slo se cumplieron en las celdas de esta "
    "configuración",
    "flag.slo-fail": "SLO incumplido",
    "flag.slo-fail.explain": "al menos un objetivo de --slo no se cumplió (results.json: "
    "slo.checks)",
    "flag.generator-bound": "generador saturado",
    "flag.generator-bound.explain": "el proceso más cargado del generador de carga usó más del "
    "85 % de un núcleo: el límite medido es el del cliente, no el del servidor",
    "flag.cpu-contended": "CPU disputada",
    "flag.cpu-contended.explain": "las CPU de la máquina estuvieron ocupadas al menos un 90 % y "
    "otro trabajo, ajeno a esta celda, ocupó al menos 0,2 de una CPU: la celda midió menos de lo "
    "que sus servidores harían por sí solos (results.json: cpu.other_cpus)",
    "flag.unstable": "inestable",
    "flag.unstable.explain": "el rendimiento de las dos mitades de la ventana difirió en más del "
    "15 %: el sistema no se había estabilizado",
    "flag.errors": "errores",
    "flag.errors.explain": "algunas solicitudes fallaron; quedan fuera de las latencias y de req/s",
    "flag.no-successful-requests": "sin datos",
    "flag.no-successful-requests.explain": "ninguna solicitud tuvo éxito dentro de la ventana "
    "medida",
    # ejes y leyendas
    "axis.percentile": "percentil (escala logarítmica de 1/(1−p))",
    "axis.replicas": "réplicas",
    "axis.rps": "rendimiento (req/s)",
    "axis.latency": "latencia (ms)",
    "axis.p99": "latencia p99 (ms)",
    "axis.bytes": "bytes por llamada",
    "axis.us_per_request": "µs de CPU por solicitud",
    "axis.share": "proporción de solicitudes",
    "axis.batch": "instancias por llamada (lote)",
    "axis.us_per_prediction": "µs de CPU del servidor por predicción",
    "wire.request": "solicitud",
    "wire.response": "respuesta",
    "wire.headers": "encabezados",
    "wire.framing": "tramas",
    "wire.body": "cuerpo",
    "cpu.server_us_per_request": "servidor",
    "cpu.generator_us_per_request": "cliente (generador de carga)",
    "cpu.balancer_us_per_request": "balanceador",
    "breakdown.server.floor": "piso (framework, transporte)",
    "breakdown.server.decode": "decodificar + validar",
    "breakdown.server.core": "núcleo (ruteo, estrategia, contadores)",
    "breakdown.server.model": "modelo",
    "breakdown.server.encode": "codificar",
    "breakdown.client.floor": "piso (biblioteca cliente, transporte)",
    "breakdown.client.encode": "codificar la solicitud",
    "breakdown.client.decode": "decodificar la respuesta",
    "breakdown.client.other": "resto de la llamada",
    "spread.replica": "réplica",
    "corrected.no": "desde el envío real",
    "corrected.yes": "desde el envío previsto",
    "balancer.reuseport": "L4",
    "balancer.nginx": "L7",
    "balancer.haproxy": "L7",
    "balancer.client": "L7 en el cliente",
    # gráficos
    "fig.scaling.title": "Rendimiento según la cantidad de réplicas",
    "fig.scaling.what": "Solicitudes por segundo que sostuvo cada protocolo con 1, 2, … réplicas "
    "detrás del balanceador de carga, con la misma carga. Un escalado horizontal perfecto sería "
    "una recta que pasa por el origen.",
    "fig.scaling.absent": "Esta corrida tiene una sola cantidad de réplicas, así que no hay "
    "escalado que mostrar; corran `protobench bench --replicas 1,2` para dibujarlo.",
    "fig.percentiles.title": "Distribución de la latencia por percentiles",
    "fig.percentiles.what": "Gráfico al estilo HDR: cada punto es la latencia por debajo de la "
    "cual terminó esa fracción de las solicitudes. El eje x estira la cola (90 %, 99 %, 99,9 % "
    "a la misma distancia), donde viven las solicitudes lentas. Las curvas se cortan donde la "
    "corrida no tiene solicitudes suficientes para decir más.",
    "fig.percentiles.absent": "Ningún protocolo tiene solicitudes exitosas para dibujar una "
    "distribución.",
    "fig.knee.title": "Latencia según el rendimiento a lo largo del barrido de carga",
    "fig.knee.what": "Cada punto es un nivel de carga (usuarios o tasa ofrecida); ir hacia la "
    "derecha es atender más solicitudes. Donde la línea se dobla hacia arriba, el servidor está "
    "saturado: el codo.",
    "fig.knee.absent": "Esta corrida tiene un solo nivel de carga por protocolo, así que no hay "
    "curva; corran `protobench bench --users 4,16,64` (o varios valores de --rate) para "
    "encontrar el codo.",
    "fig.wire.title": "Bytes en la red por llamada",
    "fig.wire.what": "Lo que pone en la red una llamada de predicción, solicitud y respuesta, "
    "separado en encabezados, tramas (las de HTTP/2 y el prefijo de longitud de gRPC) y cuerpo "
    "(los datos).",
    "fig.wire.absent": "La corrida no tiene conteos de bytes.",
    "fig.cpu.title": "CPU por solicitud: servidor y cliente",
    "fig.cpu.what": "Microsegundos de CPU que cada solicitud le costó a las réplicas del "
    "servidor y al generador de carga (el lado cliente): serialización, parseo y la maquinaria "
    "del protocolo.",
    "fig.cpu.absent": "La corrida no tiene mediciones de CPU.",
    "fig.coldstart.title": "Arranque en frío: del inicio del proceso a la primera predicción",
    "fig.coldstart.what": "Mediana de segundos desde que arranca un proceso servidor hasta su "
    "primera predicción exitosa, con los modelos ya en disco (como en la imagen, entrenados al "
    "construirla) y con la carpeta de modelos vacía (el servidor entrena primero). Es lo que "
    "espera el primer cliente después de escalar a cero; un contenedor o un pod suma su propio "
    "arranque.",
    "fig.coldstart.absent": "Esta corrida no midió arranques en frío; ejecute "
    "`protobench bench --cold-starts 5` para agregarlos.",
    "fig.coldstart.line": "{protocol}: {disk} s con los modelos en disco ({disk_range} s en {n} "
    "arranques), {train} s cuando entrena primero ({train_range} s).",
    "coldstart.models_on_disk": "modelos en disco",
    "coldstart.train_on_first_use": "entrenando en el primer uso",
    "axis.seconds": "segundos",
    "note.coldstart.title": "Escalar a cero y serverless: el arranque en frío",
    "note.coldstart.text": "Una plataforma que escala a cero (Knative, KEDA, funciones "
    "serverless) elimina todas las réplicas cuando no llega tráfico y no cuesta nada mientras "
    "está inactiva. La siguiente solicitud espera a que arranque una réplica: el proceso importa "
    "su pila de protocolo y carga el modelo antes de poder responder. Mantener una réplica "
    "caliente (min-scale 1) cambia esa espera por el costo de una réplica ociosa; incluir el "
    "modelo entrenado en la imagen saca el entrenamiento de ese camino.",
    "note.coldstart.evidence": "Medido aquí (mediana de {n} arranques, solo el proceso): {fast} "
    "responde su primera predicción {fast_s} s después de arrancar su proceso, {slow} después "
    "de {slow_s} s; entrenar en el primer uso lo alarga hasta {train_s} s.",
    "fig.breakdown.title": "A dónde va la CPU del servidor en una predicción",
    "fig.breakdown.what": "Microsegundos de CPU del servidor para predecir una fila de iris, "
    "una llamada a la vez, repartidos en el piso (la llamada más barata, health, en el mismo "
    "servidor y conexión), decodificar y validar la solicitud, el núcleo, el modelo y "
    "codificar la respuesta. Medido: el piso y el total por la red, las demás partes dentro "
    "del proceso; decodificar + validar es lo que resta (en GraphQL incluye analizar, validar "
    "y ejecutar la consulta).",
    "fig.breakdown.absent": "Esta corrida no tiene desglose; `make demo` mide uno (o "
    "`benchmarks/adapter_overhead.py --breakdown`).",
    "fig.breakdown_client.title": "A dónde va la CPU del cliente en una predicción",
    "fig.breakdown_client.what": "La misma llamada vista desde el cliente: su piso (una llamada "
    "health), codificar la solicitud, decodificar la respuesta a los tipos del núcleo y el "
    "resto de la llamada (lo que queda del total medido).",
    "fig.breakdown_client.absent": "Esta corrida no tiene desglose; `make demo` mide uno.",
    "fig.spread.title": "Cómo repartió el balanceador las solicitudes entre las réplicas",
    "fig.spread.what": "Proporción de las solicitudes que atendió cada réplica. Repartir parejo "
    "es para lo que existe un balanceador; uno de nivel de conexión (L4) solo puede repartir "
    "conexiones.",
    "fig.spread.absent": "Esta corrida no tiene configuraciones con más de una réplica; corran "
    "`protobench bench --replicas 2` (y `--balancer nginx` o `client` para gRPC) para ver el "
    "reparto.",
    "fig.corrected.title": "Modelo abierto: latencia corregida y sin corregir",
    "fig.corrected.what": "Con una tasa de llegada fija, la latencia se puede medir desde que la "
    "solicitud se envió de verdad (línea continua) o desde que el calendario decía que había "
    "que enviarla (línea punteada). La diferencia es la espera que oculta la omisión "
    "coordinada.",
    "fig.corrected.absent": "Esta corrida no tiene celdas de modelo abierto; corran "
    "`protobench bench --rate 200` para medir la latencia desde el envío previsto.",
    "fig.batch.title": "Costo por predicción según el tamaño del lote",
    "fig.batch.what": "CPU del servidor por predicción individual cuando cada llamada lleva 1, "
    "10, 100, … instancias. Ambos ejes en escala logarítmica.",
    "fig.batch.absent": "Esta corrida usó un solo tamaño de lote; corran `protobench bench "
    "--batch 1,10,100,1000` para ver cómo el lote reparte el costo fijo de cada llamada.",
    # lecturas
    "read.none": "No se midieron solicitudes exitosas para este gráfico.",
    "read.generator_bound": "Atención: con {protocols} el cuello de botella fue el generador de "
    "carga (generador saturado), así que esos puntos subestiman lo que puede el servidor.",
    "read.unstable": "Los puntos de {protocols} están marcados como inestables: el rendimiento "
    "varió dentro de la ventana.",
    "read.scaling.intro": "La eficiencia de escalado es el rendimiento con N réplicas dividido "
    "por N veces el rendimiento con una.",
    "read.scaling.line": "{name} pasó de {rps_1} a {rps_n} req/s con {n} réplicas, eficiencia "
    "{efficiency}",
    "read.scaling.rank": "{best} fue el que más ganó con réplicas adicionales y {worst} el que "
    "menos.",
    "read.scaling.cores": "Con solo {cores} núcleos utilizables para {n} réplicas más el "
    "generador de carga, las réplicas compiten por las mismas CPU: acá más réplicas no "
    "significan más máquina, y la eficiencia habla más de esta computadora que del protocolo.",
    "read.percentiles.median": "{protocol} tuvo la menor latencia mediana, {p50} ms con {load}.",
    "read.percentiles.line": "{protocol}: p50 {p50}, p99 {p99}, p99,9 {p999} ms (media {mean})",
    "read.percentiles.tail": "La cola más pesada es la de {protocol}: su p99,9 es {ratio} su "
    "mediana, la espera que le toca a una solicitud de cada mil.",
    "read.percentiles.thin": "Con apenas {n} solicitudes en la ventana ({protocols}), el p99,9 "
    "se apoya en una o dos muestras: tómenlo como indicativo.",
    "read.knee.line": "{protocol}: de {before} a {after}, rendimiento {gain} y p99 {latency}",
    "read.knee.saturated": "Pasado el codo: {protocols}. Más carga ya no compra rendimiento, "
    "solo alarga la cola y la espera.",
    "read.knee.growing": "Todavía antes del codo: {protocols}, donde la carga extra se convirtió "
    "en rendimiento; el codo está más a la derecha.",
    "read.wire.totals": "Una llamada cuesta {small_bytes} bytes con {small} y {large_bytes} con "
    "{large}, {ratio} más.",
    "read.wire.overhead": "Manda el sobre: encabezados y tramas son el {share} de los bytes de "
    "{protocol}, para unos datos de pocos números.",
    "read.wire.body": "El cuerpo de la solicitud va de {small_bytes} bytes ({small}) a "
    "{large_bytes} ({large}).",
    "read.wire.framing": "HTTP/2 agrega un encabezado de 9 bytes a cada trama y gRPC un prefijo "
    "de 5 bytes a cada mensaje, pero HPACK reduce los encabezados repetidos a unos pocos bytes "
    "después de la primera llamada.",
    "read.cpu.server": "El servidor gastó {cheap_us} µs de CPU por solicitud con {cheap} y "
    "{dear_us} µs con {dear} ({ratio}).",
    "read.cpu.client_heavier": "Con {protocols} el cliente gastó más CPU por solicitud que el "
    "servidor: el costo de un protocolo se paga en las dos puntas, y una biblioteca cliente "
    "pesada puede esconder un servidor rápido.",
    "read.cpu.server_heavier": "Cada cliente gastó menos CPU por solicitud que el servidor al que "
    "llamó.",
    "read.breakdown.server": "{protocol} {total} µs (piso {floor}, modelo {model}, codificar "
    "y decodificar {codec})",
    "read.breakdown.client": "{protocol} {total} µs (piso {floor}, codificar y decodificar "
    "{codec})",
    "read.spread.extremes": "Un reparto parejo le daría a cada réplica el {even}. El más "
    "desparejo: {worst}, cuya réplica más cargada atendió el {worst_share}; el más parejo: "
    "{best} ({best_share}).",
    "read.spread.grpc_l4_uneven": "gRPC detrás de {balancer} muestra la lección de L4: cada uno "
    "de los {users} usuarios mantiene una conexión HTTP/2 de larga vida, el balanceador ubica "
    "conexiones, no llamadas, y una réplica se quedó con el {share}.",
    "read.spread.grpc_l4_even": "gRPC detrás de {balancer} repartió parejo por casualidad (el "
    "{share} en la réplica más cargada) porque {users} usuarios abrieron {users} conexiones; con "
    "un solo cliente, una sola conexión habría llevado todas las llamadas a una única réplica.",
    "read.spread.grpc_l7": "Detrás de balanceadores que reparten llamadas (L7), la réplica más "
    "cargada de gRPC atendió: {shares}.",
    "read.spread.try_l7": "Para ver el contraste, repitan gRPC con `--balancer client` o "
    "`--balancer nginx`, que reparten llamadas en lugar de conexiones.",
    "read.spread.balancer_cost": "Un proxy no es gratis; CPU por solicitud del proceso "
    "balanceador: {costs}.",
    "read.spread.cost_item": "{us} µs en {label} (las réplicas: {server} µs)",
    "read.corrected.line": "{protocol} con {rate} req/s ofrecidas (atendió {achieved}): la mayor "
    "diferencia está en el {percentile}, {raw} ms desde el envío real contra {fixed} ms desde el "
    "envío previsto ({ratio}).",
    "read.corrected.behind": "{protocol} atendió solo el {share} de la tasa ofrecida: las "
    "solicitudes hicieron cola en el generador.",
    "read.corrected.agree": "Las dos curvas coinciden: los servidores siguieron el ritmo del "
    "calendario, así que en esta corrida no hubo espera oculta.",
    "read.corrected.hidden": "La curva punteada es la latencia que sentiría un usuario que llega "
    "según el calendario; la continua deja afuera el tiempo que las solicitudes esperaron su "
    "turno para salir.",
    "read.batch.line": "{protocol}: {before} µs por predicción con lote {small} y {after} µs con "
    "lote {large} ({ratio} más barato; {predictions} predicciones/s).",
    "read.batch.why": "Cada llamada paga un peaje fijo (manejo de la conexión, encabezados, "
    "sobre, despacho) que el lote reparte entre sus instancias; con lotes grandes queda la "
    "serialización de los números y el modelo mismo. Es la predicción en lotes de la clase.",
    # notas para la clase
    "note.breakdown.title": "A dónde van los microsegundos de una llamada",
    "note.breakdown.text": "Una predicción atraviesa más que el modelo: el framework recibe "
    "los bytes y los enruta, la solicitud se decodifica y se valida, el servicio elige una "
    "versión y cuenta la llamada, el modelo calcula y la respuesta se codifica. Con un modelo "
    "pequeño el modelo es la parte menor: el protocolo y su framework deciden el costo. JSON es "
    "texto que se analiza carácter por carácter, protobuf un binario compacto que se lee campo "
    "por campo; GraphQL además analiza, valida y ejecuta una consulta; gRPC agrega el "
    "enmarcado de HTTP/2.",
    "note.breakdown.evidence": "el modelo usó {model} µs de CPU del servidor por llamada; "
    "{cheap} costó {cheap_us} µs en total y {dear} {dear_us} µs: los {gap} µs entre ambos son "
    "protocolo y framework, no modelo.",
    "note.http.title": "HTTP/1.1 y HTTP/2",
    "note.http.text": "REST, GraphQL y JSON-RPC viajan acá sobre HTTP/1.1: una solicitud a la "
    "vez por conexión, con los encabezados escritos como texto en cada solicitud. gRPC usa "
    "HTTP/2: muchas llamadas multiplexadas en una conexión como tramas binarias, con "
    "encabezados comprimidos por HPACK, que recuerda los ya enviados.",
    "note.http.evidence": "los encabezados costaron {rest} bytes por llamada con REST y {grpc} "
    "con gRPC, que suma {framing} bytes de tramas y prefijos de mensaje.",
    "note.serialization.title": "JSON frente a protobuf",
    "note.serialization.text": "JSON es texto que cualquiera puede leer, con los nombres de los "
    "campos repetidos en cada mensaje y los números escritos dígito por dígito. Protobuf es "
    "binario: los campos van numerados según un contrato (el archivo .proto) que compilan ambos "
    "lados, y un float ocupa cuatro bytes.",
    "note.serialization.evidence": "los cuerpos por llamada fueron de {rest_body} bytes con REST "
    "(JSON) y {body} con gRPC (protobuf); el servidor gastó {rest_us} y {us} µs de CPU por "
    "solicitud.",
    "note.graphql.title": "Lo que cuesta la flexibilidad de GraphQL",
    "note.graphql.text": "GraphQL deja que el cliente elija los campos de la respuesta (el "
    "formato de dato flexible de la tabla de la clase), algo útil para interfaces que si no "
    "llamarían a varios endpoints. Lo paga el servidor: parsea y valida un documento de "
    "consulta en cada solicitud y arma la respuesta campo por campo.",
    "note.graphql.evidence": "los cuerpos por llamada fueron de {rest_body} bytes con REST y "
    "{body} con GraphQL; CPU del servidor por solicitud {rest_us} µs contra {us} µs.",
    "note.jsonrpc.title": "El sobre delgado de JSON-RPC",
    "note.jsonrpc.text": "JSON-RPC envuelve una llamada en un sobre mínimo (método, parámetros, "
    "id) que se envía a una sola URL. No necesita rutas por endpoint y se corresponde "
    "directamente con funciones, por eso la tabla de la clase lo describe como fácil de "
    "implementar; varias llamadas entran en una sola solicitud.",
    "note.jsonrpc.evidence": "los cuerpos por llamada fueron de {rest_body} bytes con REST y "
    "{body} con JSON-RPC; CPU del servidor por solicitud {rest_us} µs contra {us} µs.",
    "note.scaling.title": "Escalado horizontal y balanceador de carga",
    "note.scaling.text": "Para atender más demanda, la clase propone varias instancias "
    "idénticas detrás de un balanceador de carga. Solo ayuda si el cuello de botella son las "
    "instancias y el balanceador reparte parejo: uno L4 reparte conexiones, uno L7 reparte "
    "solicitudes. Un cliente que multiplexa todo en una conexión de larga vida (lo normal en "
    "gRPC) queda pegado a una réplica detrás de un balanceador L4.",
    "note.scaling.evidence": "la mejor ganancia fue la de {protocol}: {gain} el rendimiento de "
    "una réplica con {n} réplicas.",
    "note.little.title": "Ley de Little",
    "note.little.text": "En un sistema estable, la cantidad media de solicitudes en curso es el "
    "rendimiento por el tiempo medio en el sistema: L = λ·W. En una prueba cerrada L no puede "
    "superar la cantidad de usuarios, así que con el servidor saturado más usuarios solo "
    "aumentan W.",
    "note.little.line": "{protocol}: {users} usuarios, λ = {rps} req/s, W = {w} ms, así que "
    "L = λ·W = {l} (el {share} de los usuarios)",
    "note.little.gap": "Donde L no llega a la cantidad de usuarios, el resto del tiempo de cada "
    "usuario se fue en el propio generador de carga (armar la solicitud y registrar la "
    "respuesta), no en esperar al servidor.",
    "note.little.full": "L coincide con los usuarios: cada usuario estuvo esperando al servidor "
    "todo el tiempo, así que el ritmo lo marcó el servidor y no el generador.",
    "note.p99.title": "Por qué importa más el p99 que la media",
    "note.p99.text": "La media esconde las solicitudes lentas entre muchas rápidas. Un usuario, "
    "o un servicio que hace varias llamadas para armar una respuesta, espera a la más lenta, así "
    "que los percentiles de la cola deciden lo que vive la gente.",
    "note.p99.evidence": "{protocol} tuvo una media de {mean} ms y un p99 de {p99} ms. Algo que "
    "hace {calls} llamadas se topa con al menos una espera de p99 o peor el {chance} de las "
    "veces.",
    "note.omission.title": "Omisión coordinada",
    "note.omission.text": "Un cliente de ciclo cerrado envía la siguiente solicitud recién "
    "después de la respuesta anterior; si el servidor se traba, deja de enviar y la traba se "
    "mide una vez en lugar de en cada solicitud que debió salir. Un modelo abierto envía según "
    "un calendario fijo y mide desde el momento previsto de envío, que incluye esa espera.",
    "note.omission.no_open": "solo se usó el modelo cerrado; una corrida de modelo abierto "
    "(`--rate`) mostraría la diferencia.",
    "note.omission.evidence": "{protocol} con {rate} req/s: {percentile} de {raw} ms medido "
    "desde el envío real y de {fixed} ms desde el envío previsto.",
    "note.consume.title": "Consumir una API, no solo construirla",
    "note.consume.text": "Un servicio de modelos solo sirve cuando alguien lo llama. Cada "
    "protocolo de esta comparación también se llama desde un script corto que usa solo las "
    "herramientas habituales del protocolo — requests para REST y JSON-RPC, httpx para GraphQL, "
    "grpcio con stubs generados desde el .proto — en examples/clients/ del repositorio: copien "
    "uno para empezar su propio cliente.",
    # glosario
    "glossary.latency.term": "Latencia",
    "glossary.latency.text": "Tiempo desde que se envía una solicitud hasta que llega la "
    "respuesta completa.",
    "glossary.throughput.term": "Rendimiento (throughput)",
    "glossary.throughput.text": "Solicitudes (o predicciones) completadas por segundo.",
    "glossary.percentile.term": "Percentil (p50, p99, p99,9)",
    "glossary.percentile.text": "La latencia por debajo de la cual terminó ese porcentaje de "
    "las solicitudes; p50 es la mediana.",
    "glossary.replica.term": "Réplica",
    "glossary.replica.text": "Uno de varios procesos servidores idénticos que sirven el mismo "
    "modelo.",
    "glossary.balancer.term": "Balanceador de carga",
    "glossary.balancer.text": "Lo que entrega el trabajo entrante a las réplicas: acá el kernel "
    "(SO_REUSEPORT), nginx, HAProxy o el propio cliente gRPC.",
    "glossary.l4l7.term": "L4 / L7",
    "glossary.l4l7.text": "Capas de red: un balanceador L4 ve conexiones TCP; uno L7 entiende "
    "HTTP y puede dirigir cada solicitud.",
    "glossary.http2.term": "Multiplexación HTTP/2",
    "glossary.http2.text": "Muchas solicitudes concurrentes comparten una conexión como tramas "
    "intercaladas.",
    "glossary.protobuf.term": "Protocol Buffers",
    "glossary.protobuf.text": "Serialización binaria con un esquema (.proto) que se compila a "
    "código para cada lenguaje; la de gRPC por defecto.",
    "glossary.closed.term": "Modelo cerrado",
    "glossary.closed.text": "Una cantidad fija de usuarios; cada uno envía la siguiente "
    "solicitud cuando le responden la anterior.",
    "glossary.open.term": "Modelo abierto",
    "glossary.open.text": "Las solicitudes llegan a una tasa fija sin importar la velocidad del "
    "servidor, como llegan usuarios independientes.",
    "glossary.omission.term": "Omisión coordinada",
    "glossary.omission.text": "El error de medición de un ciclo cerrado que deja de enviar "
    "mientras el servidor está trabado.",
    "glossary.little.term": "Ley de Little",
    "glossary.little.text": "L = λ·W: solicitudes en curso = rendimiento × tiempo en el sistema.",
    "glossary.generator.term": "Generador de carga",
    "glossary.generator.text": "El programa que simula a los usuarios (acá Locust); si se "
    "satura, se mide a sí mismo.",
    "glossary.batch.term": "Lote (batch)",
    "glossary.batch.text": "Varias instancias predichas en una sola llamada.",
    "glossary.ci.term": "Intervalo de confianza del 95 %",
    "glossary.ci.text": "El rango que, repitiendo las corridas, contendría el rendimiento medio "
    "verdadero 95 veces de cada 100.",
    # manifiesto
    "manifest.intro": "Con qué se hizo esta corrida, para reproducirla o juzgar sus números.",
    "manifest.run_id": "Corrida",
    "manifest.command": "Comando",
    "manifest.started_at": "Inicio",
    "manifest.machine": "Máquina",
    "manifest.usable": "utilizables:",
    "manifest.platform": "Plataforma",
    "manifest.pinning": "Fijación de CPU",
    "manifest.pinned": "servidores en la CPU {server}, generador en la CPU {generator} "
    "(procesos de Locust: {processes})",
    "manifest.unpinned": "sin fijar (servidores y generador comparten todos los núcleos)",
    "manifest.config": "Parámetros",
    "manifest.libraries": "Bibliotecas",
    "manifest.balancers": "Programas balanceadores",
    # las lecciones de escalado con el modelo de capacidad limitada (loadtests/report/lessons.py)
    "read.lesson.expected": "Cada réplica de este modelo sirve como mucho {per} req/s (K "
    "trabajadores × 1000 / S ms; esperar a un trabajador no gasta CPU), así que N réplicas pueden "
    "servir N × {per} incluso en una máquina pequeña. Medido frente a eso: {points}.",
    "read.lesson.point": "{protocol} ×{n} {measured} de {expected} req/s ({share})",
    "fig.replica_knee.title": "El codo se desplaza a la derecha con más réplicas",
    "fig.replica_knee.what": "Modelo abierto sobre el modelo de capacidad limitada: cada punto es "
    "una tasa ofrecida y su altura la latencia p99 medida desde el instante de envío previsto. "
    "Donde una línea se dispara, sus réplicas están saturadas; más réplicas llevan ese punto a "
    "tasas mayores.",
    "fig.replica_knee.absent": "Esta corrida no tiene un barrido de modelo abierto del modelo de "
    "capacidad limitada; `make demo` ejecuta uno (`protobench bench --model-workers 1 "
    "--model-service-ms 10 --replicas 1,2 --rate 75,150`).",
    "read.replica_knee": "La mayor tasa ofrecida que cada configuración sirvió por completo: "
    "{points}. Por encima, las peticiones hacen cola y la p99 corregida crece con cada segundo "
    "de la corrida.",
    "read.replica_knee.kept": "×{n} hasta {rate} req/s",
    "axis.offered": "tasa ofrecida (req/s)",
    "axis.p99_corrected": "p99 desde el envío previsto (ms)",
    "row.lesson": "modelo de {per}/s",
    "manifest.quota": "Cuota de CPU por réplica",
    "note.fleet.title": "Lo que añade una flota real y una sola máquina no puede mostrar",
    "note.fleet.text": "Aquí todas las réplicas comparten una máquina: un núcleo del sistema, "
    "una pila de red, una fuente de alimentación. Una flota real reparte las réplicas entre "
    "máquinas, y eso trae lo que esta demo no puede: la latencia y el ancho de banda de red entre "
    "el balanceador y cada réplica (y su variación), y los fallos independientes — una máquina, "
    "un rack o una zona que cae se lleva solo sus réplicas, que es por lo que las réplicas "
    "protegen la disponibilidad. También trae vecinos ruidosos, arranques lentos de máquinas "
    "nuevas y un balanceador que a su vez debe ser redundante. El escalado medido aquí es la "
    "aritmética de la capacidad; una flota añade sus fallos y sus retardos.",
    # la tabla de protocolos de la clase, medida (loadtests/report/lecture.py)
    "section.lecture": "La tabla de protocolos de la clase, medida",
    "lecture.intro": "La tabla de protocolos de API de la clase (protocolo, año, tipo de "
    "formato, característica más importante) con lo que midió esta ejecución al lado. El año, "
    "el tipo de formato y la característica son las palabras de la clase para los seis "
    "protocolos que lista; el formato en el cable (lo que envía protobench, que puede diferir "
    "del tipo de formato de la clase), el transporte, el contrato y el streaming salen de la "
    "spec de cada protocolo en protobench. Cada protocolo se mide en su configuración de "
    "referencia (modelo cerrado, menos "
    "réplicas, lote más pequeño, más usuarios; la mediana de sus repeticiones): req/s, latencia "
    "desde el momento en que se envió cada solicitud, bytes por llamada en el cable "
    "(encabezados, tramas y cuerpo, contados a través de un relé en llamadas de la misma carga "
    "de trabajo) y la CPU que gastaron por llamada el generador de carga y el servidor. Aquí "
    "todos los protocolos se sirven en llamadas unarias (una solicitud, una respuesta); la "
    "columna de streaming dice qué más podría hacer el protocolo.",
    "lecture.charts": "Las mismas columnas de bytes y de CPU, en gráficas:",
    "fig.lecture.title": "La tabla de la clase en una imagen: bytes y CPU del servidor por llamada",
    "fig.lecture.what": "Un punto por fila medida de la tabla de la clase: los bytes que una "
    "llamada puso en el cable (solicitud más respuesta) en horizontal, la CPU del servidor por "
    "llamada en vertical; un eje es logarítmico cuando sus valores abarcan más de diez veces. "
    "Abajo y a la izquierda es más barato.",
    "fig.lecture.absent": "Necesita al menos dos protocolos medidos con sus bytes contados: "
    "`protobench bench --protocols rest,grpc`.",
    "fig.lecture.reading": "{light} ({light_format}) puso menos bytes en el cable por llamada, "
    "{fewest} B; {heavy} ({heavy_format}) puso más, {most} B, {bytes_ratio} esa cantidad. El "
    "servidor gastó menos CPU por llamada con {cheap}, {lowest} µs, y más con {dear}, "
    "{highest} µs, {cpu_ratio} ese tiempo.",
    "axis.bytes_both": "bytes por llamada en el cable (solicitud + respuesta)",
    "axis.server_us_per_call": "µs de CPU del servidor por llamada",
    "lecture.col.protocol": "Protocolo",
    "lecture.col.year": "Año",
    "lecture.col.formats": "Tipo de formato",
    "lecture.col.payload": "Formato en el cable",
    "lecture.col.feature": "Característica más importante",
    "lecture.col.transport": "Transporte",
    "lecture.col.contract": "Contrato (IDL)",
    "lecture.col.streaming": "Streaming",
    "lecture.col.config": "Configuración medida",
    "lecture.col.rps": "req/s",
    "lecture.col.request_bytes": "B/solicitud",
    "lecture.col.response_bytes": "B/respuesta",
    "lecture.col.generator_us": "CPU generador µs/llamada",
    "lecture.col.server_us": "CPU servidor µs/llamada",
    "lecture.config": "réplicas: {replicas} · {load} · lote: {batch}",
    "lecture.not_measured": "No medido en esta ejecución; `{command}` lo mide.",
    "lecture.not_measured.short": "no medido",
    "lecture.no_success": "Ejecutado, pero ninguna solicitud tuvo éxito: no hay nada que "
    "mostrar (vea los errores en la tabla de resultados; `{command}` lo repite).",
    "lecture.no_success.short": "ninguna solicitud con éxito",
    "lecture.lessons_only": "Ejecutado solo con el modelo de capacidad limitada (la lección de "
    "escalado), cuyos costes se fijan, no se miden; `{command}` mide el modelo real.",
    "lecture.lessons_only.short": "solo la lección",
    "lecture.undeclared": "sin declarar en su spec",
    "lecture.not_in_lecture": "* No figura en la tabla de la clase: el año y la característica "
    "son de protobench.",
    "lecture.payload": "payload: {payload}",
    "lecture.shared": "Todos los protocolos se midieron en la misma configuración: {config}.",
    "lecture.mixed": "No todos los protocolos se midieron en la misma configuración "
    "({configs}): compare sus números con cuidado.",
    "lecture.transport.http/1.1": "HTTP/1.1",
    "lecture.transport.h2c": "HTTP/2 (h2c)",
    "lecture.transport.tcp": "TCP, entramado propio",
    "lecture.transport.broker": "Bróker de mensajes",
    "lecture.contract.none": "Ninguno",
    "lecture.streaming.none": "No",
    "lecture.streaming.bidi": "Sí, bidireccional",
    "lecture.streaming.subscriptions": "Suscripciones",
    "lecture.streaming.pubsub": "Publicar/suscribir",
}
